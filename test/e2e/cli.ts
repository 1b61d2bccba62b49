/**
 * Drive the real CLI as a user would: a playbook written into a temp folder, `node
 * bin/chopsticks.js run … --json FILE --output plain` spawned as a child process, its exit
 * code, output and JSON report read back. The report is checked against the published schema.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Ajv2020, type SchemaObject } from 'ajv/dist/2020.js';
import { stringify } from 'yaml';
import type { RunReport } from '../../src/report/report-types.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'chopsticks.js');

import { ensureBuilt } from '../support/build-dist.js';
export { ensureBuilt };

const reportSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as SchemaObject;
const validateReportSchema = new Ajv2020({ allErrors: true, strict: true }).compile(reportSchema);

/** Schema errors of a report, as text; empty when it is valid. */
export function reportSchemaErrors(report: unknown): string {
  if (validateReportSchema(report)) return '';
  return JSON.stringify(validateReportSchema.errors, null, 2);
}

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A temp folder removed when the test process exits. */
export function tempDir(prefix = 'chopsticks-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * An empty HOME (no ~/.ssh/config, default keys or known_hosts of the machine's user) and no
 * ssh-agent, so a test sees only what its playbook says.
 */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('chopsticks-e2e-home-');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CHOPSTICKS_SSH_CONFIG: join(home, 'no-ssh-config'), ...extra };
  delete env.SSH_AUTH_SOCK;
  delete env.CI_FORCE_TTY;
  return env;
}

/** Write `playbook` (an object, serialised with the yaml package, or YAML text) as `dir/name`. */
export function writePlaybook(dir: string, playbook: object | string, name = 'playbook.yaml'): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof playbook === 'string' ? playbook : stringify(playbook));
  return file;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed --json report, when the CLI wrote one. */
  report?: RunReport;
  /** Wall time of the whole process. */
  wallMs: number;
  /** Highest VmHWM seen while polling /proc (KiB), when asked for. */
  peakRssKiB?: number;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra node flags before the bin script (e.g. --max-old-space-size=64). */
  nodeFlags?: string[];
  /** Kill the CLI after this long (the test fails on the null code). */
  timeoutMs?: number;
  /** Poll VmHWM of the CLI process every few ms. */
  measureRss?: boolean;
  /** Called once the child is spawned, e.g. to send it a signal later. */
  onSpawn?: (child: ChildProcess, output: { stdout: () => string; stderr: () => string }) => void;
}

function readVmHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Run `chopsticks ARGS`; with `report: true` adds `--json` and `--output plain`. */
export async function runCli(args: string[], opts: CliOptions & { report?: boolean } = {}): Promise<CliRun> {
  ensureBuilt();
  const cwd = opts.cwd ?? tempDir();
  const reportFile = join(cwd, `report-${process.hrtime.bigint()}.json`);
  const fullArgs = opts.report === false ? args : [...args, '--json', reportFile, '--output', 'plain'];
  const started = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), BIN, ...fullArgs], {
    cwd,
    env: opts.env ?? isolatedEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let peak = 0;
  const poll = opts.measureRss
    ? setInterval(() => {
        const v = readVmHwm(child.pid!);
        if (v !== undefined && v > peak) peak = v;
      }, 20)
    : undefined;
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
  opts.onSpawn?.(child, { stdout: () => stdout, stderr: () => stderr });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'exit' fires before the last output is read; 'close' waits for the pipes too.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);
  if (timer) clearTimeout(timer);
  let report: RunReport | undefined;
  if (opts.report !== false && existsSync(reportFile)) report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
  return { code, signal, stdout, stderr, report, wallMs, peakRssKiB: opts.measureRss ? peak : undefined };
}

/** `chopsticks run PLAYBOOK --json … --output plain` from the playbook's folder. */
export function runPlaybook(file: string, extraArgs: string[] = [], opts: CliOptions = {}): Promise<CliRun> {
  return runCli(['run', file, ...extraArgs], { cwd: dirname(file), ...opts, report: true });
}

/** What a failing assertion should show: exit code, output and report. */
export function explain(r: CliRun): string {
  return `exit ${r.code} (signal ${r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- report\n${(JSON.stringify(r.report, null, 1) as string | undefined)?.slice(0, 6000)}`;
}

export async function sha1File(path: string): Promise<string> {
  const h = createHash('sha1');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

/** A file of `size` pseudo-random bytes (deterministic per seed), written in chunks. */
export function writeRandomFile(path: string, size: number, seed = 1): void {
  const chunk = Buffer.alloc(1 << 20);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < chunk.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.writeUInt32LE(x >>> 0, i);
  }
  const fd = openSync(path, 'w');
  try {
    let left = size;
    let n = 0;
    while (left > 0) {
      // Vary each MiB so the file is not one block repeated.
      chunk.writeUInt32LE(n++, 0);
      const len = Math.min(left, chunk.length);
      writeSync(fd, chunk, 0, len);
      left -= len;
    }
  } finally {
    closeSync(fd);
  }
}

/** Throws with the schema errors and the report when the run's report is missing or invalid. */
export function assertReportValid(r: CliRun): void {
  if (!r.report) throw new Error(`no report written\n${explain(r)}`);
  const errs = reportSchemaErrors(r.report);
  if (errs) throw new Error(`report does not match schema/report.schema.json:\n${errs}\n${explain(r)}`);
}
