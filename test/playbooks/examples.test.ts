/**
 * The example playbooks in playbooks/ are documentation a user will copy, so they must keep
 * working: every one validates, every one that needs no server runs with the exit code its
 * header declares (`# expect-exit: N`, 0 by default; extra flags in `# expect-args: ...`), its
 * JSON report matches schema/report.schema.json, and `plan` prints the same bytes twice.
 *
 * A playbook needs a server when its header says `# NEEDS ...`; that claim is checked against
 * `chopsticks hosts` (server-free examples have only local hosts), so an example cannot quietly
 * start needing sshd or Docker.
 *
 * The real CLI runs in a child process from dist/, rebuilt first when src/ is newer (behind the
 * same lock folder the e2e helpers use, so parallel test files build once).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/report-types.js';
import { ensureBuilt } from '../support/build-dist.js';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const BIN = join(ROOT, 'bin', 'chopsticks.js');
const DIR = join(ROOT, 'playbooks');

interface Example {
  file: string;
  rel: string;
  needsServer: boolean;
  expectExit: number;
  extraArgs: string[];
}

/** Header comments: the lines before the first line that is not a comment. */
function readExample(file: string): Example {
  const header: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('#')) break;
    header.push(line);
  }
  const field = (name: string): string | undefined =>
    header.map((l) => new RegExp(`^#\\s*${name}:\\s*(.*)$`).exec(l)?.[1]?.trim()).find((v) => v !== undefined);
  const exit = field('expect-exit');
  return {
    file,
    rel: `playbooks/${basename(file)}`,
    needsServer: header.some((l) => /^#\s*NEEDS\b/.test(l)),
    expectExit: exit === undefined ? 0 : Number(exit),
    extraArgs: field('expect-args')?.split(/\s+/).filter(Boolean) ?? [],
  };
}

const EXAMPLES: Example[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readExample(join(DIR, f)));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** No colour, no terminal UI: an empty FORCE_COLOR would still turn colour on. */
function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
  delete env.FORCE_COLOR;
  return env;
}

function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: plainEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const validateReport = new Ajv2020({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(ROOT, 'schema', 'report.schema.json'), 'utf8')) as object,
);

let work: string;
const fetchTemps: string[] = [];

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'chopsticks-examples-test-'));
}, 200_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  // `fetch` without `to` makes a private temp folder per host; remove the ones our runs made.
  for (const p of fetchTemps) rmSync(dirname(p), { recursive: true, force: true });
});

/** Run an example with a JSON report; returns the exit code and the report. */
async function runExample(ex: Example, extra: string[] = []): Promise<{ res: CliResult; report: RunReport }> {
  const json = join(work, `${basename(ex.file, '.yaml')}-${Math.random().toString(36).slice(2)}.json`);
  const res = await cli(['run', ex.rel, '--output', 'plain', '--json', json, ...ex.extraArgs, ...extra]);
  expect(existsSync(json), `no report for ${ex.rel}; stderr:\n${res.stderr}`).toBe(true);
  const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
  for (const step of report.steps) {
    for (const r of Object.values(step.results)) {
      if (!r.ok || step.kind !== 'fetch' || r.value === null || typeof r.value !== 'object' || Array.isArray(r.value)) continue;
      const local = r.value.local_path;
      if (typeof local === 'string' && basename(dirname(local)).startsWith('chopsticks-fetch-')) fetchTemps.push(local);
    }
  }
  return { res, report };
}

function example(name: string): Example {
  const ex = EXAMPLES.find((e) => basename(e.file) === name);
  if (!ex) throw new Error(`playbooks/${name} is missing`);
  return ex;
}

describe('example playbooks', () => {
  it('cover every feature the docs point to', () => {
    const names = EXAMPLES.map((e) => basename(e.file));
    for (const n of [
      'hello.yaml',
      'groups-algebra.yaml',
      'filter-groups.yaml',
      'put-fetch.yaml',
      'webserver.yaml',
      'failure-policies.yaml',
      'free-strategy.yaml',
      'serial-rolling.yaml',
      'templates.yaml',
      'custom-callable.yaml',
      'check-mode.yaml',
      'inventory.yaml',
      'ssh-fleet.yaml',
      'docker-ephemeral.yaml',
      'mixed-fleet.yaml',
    ]) {
      expect(names).toContain(n);
    }
    for (const ex of EXAMPLES) {
      const text = readFileSync(ex.file, 'utf8');
      expect(text.startsWith('# yaml-language-server: $schema=../schema/playbook.schema.json\n'), ex.rel).toBe(true);
      // Examples write to temp folders, never into system places.
      if (/ssh|docker|mixed/.test(basename(ex.file))) expect(ex.needsServer, `${ex.rel} must say # NEEDS ...`).toBe(true);
    }
  });

  it('all pass `chopsticks validate`', async () => {
    const res = await cli(['validate', ...EXAMPLES.map((e) => e.rel)]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    for (const ex of EXAMPLES) expect(res.stdout).toContain(`${ex.rel}: valid\n`);
  });

  it.each(EXAMPLES.map((e) => [e.rel, e] as const))('%s: its header tells the truth about needing a server', async (_rel, ex) => {
    const res = await cli(['hosts', ex.rel]);
    expect(res.code, res.stderr).toBe(0);
    const transports = res.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[1]);
    expect(transports.length).toBeGreaterThan(0);
    if (ex.needsServer) expect(transports.some((t) => t !== 'local')).toBe(true);
    else expect(transports.every((t) => t === 'local')).toBe(true);
  });

  it.each(EXAMPLES.map((e) => [e.rel, e] as const))('%s: plan is byte-identical across two runs', async (_rel, ex) => {
    const [a, b] = [await cli(['plan', ex.rel]), await cli(['plan', ex.rel])];
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(0);
    expect(b.stdout).toBe(a.stdout);
    const [ja, jb] = [await cli(['plan', ex.rel, '--json']), await cli(['plan', ex.rel, '--json'])];
    expect(ja.code, ja.stderr).toBe(0);
    expect(() => JSON.parse(ja.stdout) as unknown).not.toThrow();
    expect(jb.stdout).toBe(ja.stdout);
  });

  const runnable = EXAMPLES.filter((e) => !e.needsServer);
  it.each(runnable.map((e) => [e.rel, e] as const))(
    '%s: runs with the exit code its header declares, and a valid report',
    async (_rel, ex) => {
      const { res, report } = await runExample(ex);
      expect(res.code, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(ex.expectExit);
      expect(validateReport(report), JSON.stringify(validateReport.errors, null, 2)).toBe(true);
      expect(report.playbook).toBe(ex.rel);
      expect(report.status).toBe(({ 0: 'ok', 2: 'failed', 3: 'aborted' } as Record<number, string>)[ex.expectExit]);
    },
    60_000,
  );
});

describe('what the examples demonstrate', () => {
  it('groups-algebra: precedence, globs and symmetric difference resolve as documented', async () => {
    const { report } = await runExample(example('groups-algebra.yaml'));
    expect(report.groups.web).toEqual(['web-1', 'web-2', 'web-3']);
    expect(report.groups.odd_one_out).toEqual(['web-2', 'web-3', 'db-1', 'cache']);
    expect(report.groups.precedence).toEqual(['web-2', 'web-3', 'db-1', 'db-2']);
    expect(report.groups.grouped).toEqual(['web-2', 'web-3']);
    expect(report.steps[3]!.targets).toEqual(['web-3', 'db-1', 'cache']);
  });

  it('groups-algebra: --limit intersects every step with the expression', async () => {
    const { res, report } = await runExample(example('groups-algebra.yaml'), ['--limit', 'eu']);
    expect(res.code).toBe(0);
    expect(report.steps[0]!.targets).toEqual(['web-1', 'db-1', 'cache']);
    expect(report.steps[2]!.targets).toEqual(['db-1']);
  });

  it('filter-groups: filters make groups, exclude flips them', async () => {
    const { report } = await runExample(example('filter-groups.yaml'));
    expect(report.groups.prod).toEqual(['app-1', 'worker-1']);
    expect(report.groups.non_apps).toEqual(['worker-1', 'worker-2']);
    expect(report.steps[3]!.targets).toEqual(['app-1']);
    expect(report.steps[4]!.targets).toEqual(['worker-2']);
  });

  it('failure-policies: ignore keeps, continue drops, failed() collects, abort stops', async () => {
    const { report } = await runExample(example('failure-policies.yaml'));
    const [ignoreStep, deploy, collect, health, never] = report.steps;
    expect(ignoreStep!.results.lime!.ok).toBe(false);
    expect(deploy!.targets).toContain('lime'); // ignored error: lime stays
    expect(deploy!.results.plum!.ok).toBe(false);
    expect(collect!.targets).toEqual(['plum']); // dropped by continue, asked for by failed(deploy)
    expect(collect!.results.plum!.ok).toBe(true);
    expect(health!.targets).not.toContain('plum');
    expect(health!.status).toBe('aborted');
    expect(never!.status).toBe('not_run');
    expect(report.hosts).toMatchObject({ lime: 'failed', plum: 'failed', apple: 'cancelled' });
  });

  it('serial-rolling: a canary batch of one, then 50% at a time', async () => {
    const { res } = await runExample(example('serial-rolling.yaml'));
    const batches = res.stdout.split('\n').filter((l) => l.startsWith('== batch'));
    expect(batches).toEqual(['== batch 1: web01', '== batch 2: web[02-03]', '== batch 3: web[04-05]']);
  });

  it('check-mode: mutating calls are skipped and nothing is written', async () => {
    const ex = example('check-mode.yaml');
    expect(ex.extraArgs).toEqual(['--check']);
    rmSync('/tmp/chopsticks-examples/check-mode', { recursive: true, force: true });
    const { report } = await runExample(ex);
    expect(report.check).toBe(true);
    const seed = report.steps[0]!.results.beta!;
    expect(seed.ok && seed.outcome).toBe('would_change');
    const put = report.steps[3]!.results.alpha!;
    expect(put.ok && (put.value as { changed: boolean }).changed).toBe(true);
    expect(existsSync('/tmp/chopsticks-examples/check-mode')).toBe(false);
  });

  it('templates: a lone placeholder keeps its JSON type', async () => {
    const { report } = await runExample(example('templates.yaml'), ['--var', 'release=9.9.9']);
    const said = report.steps[1]!.results.red!;
    expect(said.ok && (said.value as { stdout: string }).stdout).toMatch(/^shop 9\.9\.9 on red \(red, \S+ \S+\)\n$/);
    const exit3 = report.steps[3]!.results.blue!;
    expect(exit3.ok && (exit3.value as { rc: number }).rc).toBe(3);
  });

  it('webserver: --check lists exactly what the first run changes; the second run changes nothing', async () => {
    const ex = example('webserver.yaml');
    const root = mkdtempSync(join(work, 'webserver-'));
    const args = ['--var', `root=${root}`];
    // (step, host) pairs a report says change: changed, or (check mode) a mutating step not run.
    const changes = (r: RunReport) =>
      r.steps.flatMap((s) =>
        Object.entries(s.results)
          .filter(([, x]) => x.ok && (x.changed || (x.skipped === true && x.skip_reason === undefined)))
          .map(([h]) => `${s.name} @ ${h}`),
      );
    const check = await runExample(ex, ['--check', ...args]);
    expect(check.res.code, check.res.stderr).toBe(0);
    expect(readdirSync(root)).toEqual([]);
    const first = await runExample(ex, args);
    expect(first.res.code, first.res.stderr).toBe(0);
    expect(validateReport(first.report), JSON.stringify(validateReport.errors)).toBe(true);
    expect(changes(check.report)).toEqual(changes(first.report));
    expect(changes(first.report)).toContain('restart where the config or the site changed @ web1');
    expect(first.report.steps.find((s) => s.name === 'collect logs')).toMatchObject({ phase: 'finally', targets: ['web1', 'web2'] });
    const second = await runExample(ex, args);
    expect(second.res.code, second.res.stderr).toBe(0);
    for (const s of second.report.steps)
      for (const r of Object.values(s.results)) expect(r, s.name).toMatchObject({ ok: true, changed: false });
    expect(second.report.steps.find((s) => s.name === 'restart where the config or the site changed')!.targets).toEqual([]);
  });

  it('custom-callable: module results come back as data; --check skips the mutating one', async () => {
    const ex = example('custom-callable.yaml');
    const { report } = await runExample(ex);
    const disks = report.steps[0]!.results['rack1-a']!;
    expect(disks.ok && (disks.value as { rack: string }).rack).toBe('r1');
    const checked = await runExample(ex, ['--check']);
    const skipped = checked.report.steps[1]!.results['rack2-a']!;
    expect(skipped.ok && skipped.outcome).toBe('would_change');
  });
});

describe('docs/language.md', () => {
  /** Every ```yaml block that is a whole playbook (it has `version: 1`). */
  function playbookBlocks(): Array<{ line: number; text: string }> {
    const md = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
    const out: Array<{ line: number; text: string }> = [];
    const re = /^```yaml\n([\s\S]*?)^```$/gm;
    for (let m = re.exec(md); m !== null; m = re.exec(md)) {
      if (/^version: 1$/m.test(m[1]!)) out.push({ line: md.slice(0, m.index).split('\n').length, text: m[1]! });
    }
    return out;
  }

  it('has whole-playbook examples, and every one passes `chopsticks validate`', async () => {
    const blocks = playbookBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    // The examples name files the way the playbooks/ folder has them (files/, inventory/, callables/).
    const dir = mkdtempSync(join(work, 'docs-'));
    for (const sub of ['files', 'inventory', 'callables']) symlinkSync(join(DIR, sub), join(dir, sub));
    const paths = blocks.map((b) => {
      const p = join(dir, `language-md-line-${b.line}.yaml`);
      writeFileSync(p, b.text);
      return p;
    });
    const res = await cli(['validate', ...paths]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});
