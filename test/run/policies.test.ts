/**
 * Failure policies (docs/language.md#failure-policy) through the CLI on local hosts, where real processes matter: in-flight work
 * finishing on abort, retry delays, timeouts killing the remote command, defaults. The decisions
 * themselves are tested in-process (test/run/policy.test.ts).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, processesMatching, runCli, tempDir, waitFor, writePlaybook } from '../cli/helpers.js';
import type { RunReport } from '../../src/report/report-types.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const FOUR = `version: 1
hosts:
  a: local
  b: local
  c: local
  d: local
`;

/** A step that fails on the hosts named in `failOn` (a `case` pattern such as `b|c`). */
function failOn(pattern: string, policy: string): string {
  return `  - call: shell
    args: { cmd: 'case {host} in ${pattern}) exit 1;; esac' }
    register: s
${policy}`;
}

async function run(playbook: string, extra: string[] = []): Promise<{ code: number | null; rep: RunReport; stderr: string }> {
  const pb = writePlaybook(dir, playbook);
  const r = await runCli(['run', pb, '--json', '-', ...extra]);
  return { code: r.code, rep: parseReport(r.stdout), stderr: r.stderr };
}

function kinds(rep: RunReport, step: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [h, r] of Object.entries(rep.steps[step]!.results)) out[h] = r.ok ? 'ok' : r.error.kind;
  return out;
}

describe('on_failure', () => {
  it('continue: the failed host is dropped from later steps, the rest go on; exit 2', async () => {
    dir = tempDir();
    const { code, rep } = await run(
      `${FOUR}steps:\n${failOn('b', '    on_failure: continue\n')}  - call: ping\n  - call: ping\n    on: b | c\n`,
    );
    expect(code).toBe(2);
    expect(rep.steps.map((s) => s.targets)).toEqual([['a', 'b', 'c', 'd'], ['a', 'c', 'd'], ['c']]);
    expect(rep.hosts).toEqual({ a: 'ok', b: 'failed', c: 'ok', d: 'ok' });
    expect(rep.status).toBe('failed');
  });

  it('continue is the default', async () => {
    dir = tempDir();
    const { code, rep } = await run(`${FOUR}steps:\n${failOn('b', '')}  - call: ping\n`);
    expect(code).toBe(2);
    expect(rep.steps[1]!.targets).toEqual(['a', 'c', 'd']);
  });

  it('abort: in-flight hosts finish, later steps are not run; exit 3', async () => {
    dir = tempDir();
    const { code, rep } = await run(
      `${FOUR}steps:\n  - call: shell\n    args: { cmd: 'case {host} in b) exit 1;; d) sleep 0.5; touch ${dir}/d-finished;; esac' }\n    on_failure: abort\n  - call: ping\n  - call: ping\n`,
    );
    expect(code).toBe(3);
    expect(rep.status).toBe('aborted');
    expect(rep.steps.map((s) => s.status)).toEqual(['aborted', 'not_run', 'not_run']);
    expect(kinds(rep, 0)).toEqual({ a: 'ok', b: 'failed', c: 'ok', d: 'ok' });
    expect(readFileSync(join(dir, 'd-finished'), 'utf8')).toBe('');
    expect(rep.steps[1]!.results).toEqual({});
    expect(rep.hosts.b).toBe('failed');
    // The others had work left that never ran.
    expect(rep.hosts.a).toBe('cancelled');
  });

  it('defaults.on_failure applies to steps without their own', async () => {
    dir = tempDir();
    const { code, rep } = await run(`${FOUR}defaults:\n  on_failure: abort\nsteps:\n${failOn('b', '')}  - call: ping\n`);
    expect(code).toBe(3);
    expect(rep.steps[1]!.status).toBe('not_run');
  });
});

// max_failures thresholds, ignore and the drop rule are covered in-process by test/run/policy.test.ts.

describe('retries and retry_delay', () => {
  // Fails on the first two attempts, succeeds on the third: a counter file per host.
  const flaky = (d: string) => `'n=$(cat ${d}/count-{host} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${d}/count-{host}; test $n -ge 3'`;

  it('a command that fails twice then succeeds passes with retries: 2, after the delays', async () => {
    dir = tempDir();
    const r = await runCli([
      'run',
      writePlaybook(dir, `${FOUR}steps:\n  - call: shell\n    args: { cmd: ${flaky(dir)} }\n    retries: 2\n    retry_delay: 300ms\n`),
      '--json',
      '-',
      '--events',
      join(dir, 'ev.jsonl'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    for (const h of ['a', 'b', 'c', 'd']) {
      expect(readFileSync(join(dir, `count-${h}`), 'utf8').trim()).toBe('3');
      const res = rep.steps[0]!.results[h]!;
      expect(res.ok).toBe(true);
      expect(res.duration_ms).toBeGreaterThanOrEqual(600);
    }
    const attempts = readFileSync(join(dir, 'ev.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; host?: string; attempt?: number })
      .filter((e) => e.type === 'host_started' && e.host === 'a')
      .map((e) => e.attempt);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('with retries: 1 the same command fails after two attempts', async () => {
    dir = tempDir();
    const { code, rep } = await run(`${FOUR}steps:\n  - call: shell\n    args: { cmd: ${flaky(dir)} }\n    retries: 1\n`);
    expect(code).toBe(2);
    expect(kinds(rep, 0)).toEqual({ a: 'failed', b: 'failed', c: 'failed', d: 'failed' });
    expect(readFileSync(join(dir, 'count-a'), 'utf8').trim()).toBe('2');
  });
});

describe('a session that dies under a step', () => {
  // The command kills the host's session shell the first time it runs (a container restarted,
  // an sshd session cut), and succeeds afterwards.
  const killOnce = (d: string) => `'if [ -f ${d}/died-{host} ]; then echo back; else touch ${d}/died-{host}; kill -9 $PPID; sleep 1; fi'`;

  it('is opened anew by the retry', async () => {
    dir = tempDir();
    const { code, rep } = await run(`${FOUR}steps:\n  - call: shell\n    args: { cmd: ${killOnce(dir)} }\n    on: a\n    retries: 1\n`);
    expect(code).toBe(0);
    expect(rep.steps[0]!.results.a).toMatchObject({ ok: true, value: { stdout: 'back\n' } });
  });

  it('is opened anew by a later step', async () => {
    dir = tempDir();
    const { code, rep } = await run(
      `${FOUR}steps:\n  - call: shell\n    args: { cmd: ${killOnce(dir)} }\n    on: a\n    register: k\n    on_failure: ignore\n  - call: ping\n    on: unreachable(k)\n`,
    );
    expect(kinds(rep, 0)).toEqual({ a: 'connection_lost' });
    expect(kinds(rep, 1)).toEqual({ a: 'ok' });
    // ignore keeps the host, but one that was lost is not `ok` (docs/decisions.md#running).
    expect(rep.hosts.a).toBe('unreachable');
    expect(code).toBe(2);
  });
});

describe('timeout', () => {
  it('a sleep 30 with timeout: 1s fails with kind timeout within 5 s and the sleep is gone', async () => {
    dir = tempDir();
    const sleep = `30.${process.pid}7`;
    const t = Date.now();
    const { code, rep } = await run(
      `${FOUR}steps:\n  - call: shell\n    args: { cmd: 'sleep ${sleep}' }\n    timeout: 1s\n    on: a | b\n  - call: ping\n`,
    );
    expect(Date.now() - t).toBeLessThan(10_000); // CLI start-up included, on a loaded machine
    expect(code).toBe(2);
    expect(kinds(rep, 0)).toEqual({ a: 'timeout', b: 'timeout' });
    const a = rep.steps[0]!.results.a!;
    expect(a.duration_ms).toBeLessThan(5_000);
    expect(a.duration_ms).toBeGreaterThanOrEqual(1_000);
    if (!a.ok) expect(a.error.msg).toMatch(/a: .*timed out/);
    expect(rep.steps[1]!.targets).toEqual(['c', 'd']);
    expect(rep.hosts).toEqual({ a: 'failed', b: 'failed', c: 'ok', d: 'ok' });
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 3_000)).toBe(true);
  });

  it('defaults.timeout bounds steps that say nothing', async () => {
    dir = tempDir();
    const { code, rep } = await run(
      `${FOUR}defaults:\n  timeout: 500ms\nsteps:\n  - call: shell\n    args: { cmd: 'sleep 20' }\n    on: a\n`,
    );
    expect(code).toBe(2);
    expect(kinds(rep, 0)).toEqual({ a: 'timeout' });
  });
});
