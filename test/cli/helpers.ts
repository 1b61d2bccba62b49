/**
 * Drive the real CLI the way a user does: `node bin/chopsticks.js ...` in a child process, on
 * playbooks written into per-test temp folders. The CLI runs from dist/ (built by
 * test/support/build-dist.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RunReport } from '../../src/report/report-types.js';

export const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'chopsticks.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'e2e');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

import { ensureBuilt } from '../support/build-dist.js';
export { ensureBuilt };

/** Start the CLI; the caller may send it signals. */
export function startCli(args: string[], opts: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const started = Date.now();
  // vitest sets FORCE_COLOR for its workers; the CLI would honour it (even empty), so drop it.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...(opts.env ?? {}) };
  if (opts.env?.FORCE_COLOR === undefined) delete env.FORCE_COLOR;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const done = new Promise<CliResult>((resolveDone) => {
    const timer = setTimeout(() => {
      stderr += `\n[test helper: killed after ${timeoutMs} ms]\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveDone({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return { child, done };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** A fresh folder for one test; removed by the returned cleanup. */
export function tempDir(prefix = 'chopsticks-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Write a playbook into `dir` and return its path. */
export function writePlaybook(dir: string, text: string, name = 'playbook.yaml'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** `n` local hosts named `${prefix}1..n` (or zero-padded with `pad`), as YAML lines under `hosts:`. */
export function localHosts(names: string[], extra = ''): string {
  return names.map((n) => `  ${n}: { transport: local${extra} }`).join('\n');
}

export function names(prefix: string, n: number, pad = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(pad, '0')}`);
}

const reportSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as object;
const validateReportSchema = new Ajv2020({ allErrors: true, strict: true }).compile(reportSchema);

/** Parse a run report and check it against schema/report.schema.json and the ordering rule of docs/cli.md#the-run-report---json. */
export function parseReport(text: string): RunReport {
  const report = JSON.parse(text) as unknown;
  if (!validateReportSchema(report)) {
    throw new Error(`report does not match schema/report.schema.json: ${JSON.stringify(validateReportSchema.errors, null, 2)}`);
  }
  const r = report as RunReport;
  for (const s of r.steps) {
    const keys = Object.keys(s.results);
    const inTargets = s.targets.filter((t) => keys.includes(t));
    if (JSON.stringify(keys) !== JSON.stringify(inTargets)) {
      throw new Error(`step ${s.index}: results keys ${JSON.stringify(keys)} are not in targets order ${JSON.stringify(s.targets)}`);
    }
  }
  return r;
}

export function readReport(file: string): RunReport {
  return parseReport(readFileSync(file, 'utf8'));
}

/** Processes whose command line contains `needle` (read from /proc; no `ps` parsing). */
export function processesMatching(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // A zombie is gone in every way that matters (it holds no resources and runs nothing).
      if (/^\d+ \(.*\) Z /.test(stat)) continue;
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Files or folders under `dir` (recursively) whose name starts with `prefix`. */
export function findNamed(dir: string, prefix: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.startsWith(prefix)) out.push(p);
    if (e.isDirectory()) out.push(...findNamed(p, prefix));
  }
  return out;
}
