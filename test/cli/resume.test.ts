/**
 * `run --resume REPORT` and `plan --resume REPORT` (docs/cli.md#resuming-a-run): rerun only what did not succeed,
 * each host from the step where it stopped; refuse when the playbook changed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, readReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

/** Step 1 logs every host; step 2 fails where no ready marker exists; step 3 logs again. */
function playbook(d: string): string {
  return `version: 1
vars: { d: "${d}" }
hosts:
  a: local
  b: local
  c: local
steps:
  - name: first
    call: shell
    args: { cmd: 'echo {host} >> {vars.d}/first.log' }
    register: first
  - name: gate
    call: shell
    args: { cmd: 'test -e {vars.d}/ready-{host}' }
  - name: last
    call: shell
    args: { cmd: 'echo {host}:{results.first.rc} >> {vars.d}/last.log' }
`;
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).sort() : []);

describe('--resume', () => {
  it('reruns only the failed host, from the step where it failed, with its earlier results', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, playbook(dir));
    for (const h of ['a', 'c']) writeFileSync(join(dir, `ready-${h}`), '');
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'plain']);
    expect(first.code, first.stderr).toBe(2);
    expect(readReport(join(dir, 'r1.json')).hosts).toEqual({ a: 'ok', b: 'failed', c: 'ok' });
    expect(lines(join(dir, 'first.log'))).toEqual(['a', 'b', 'c']);
    expect(lines(join(dir, 'last.log'))).toEqual(['a:0', 'c:0']);

    const plan = await runCli(['plan', pb, '--resume', join(dir, 'r1.json')]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('b from step 2');
    expect(plan.stdout).not.toMatch(/\ba from step/);

    writeFileSync(join(dir, 'ready-b'), '');
    const second = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--json', join(dir, 'r2.json'), '--output', 'plain']);
    expect(second.code, second.stderr).toBe(0);
    const r2 = readReport(join(dir, 'r2.json'));
    expect(r2.hosts).toEqual({ b: 'ok' });
    expect(r2.steps[0]!.targets).toEqual([]);
    expect(r2.steps[1]!.targets).toEqual(['b']);
    // Step 1 did not run again; step 3 saw b's registered result from the first run.
    expect(lines(join(dir, 'first.log'))).toEqual(['a', 'b', 'c']);
    expect(lines(join(dir, 'last.log'))).toEqual(['a:0', 'b:0', 'c:0']);
  });

  it('under serial, a cancelled host restarts where it stopped: after the steps its batch finished, or at the first step when its batch never started', async () => {
    dir = tempDir();
    // Batches a,b | c,d | e: c fails the gate (abort), d finishes its batch's steps 1-2, e never starts.
    const pb = writePlaybook(
      dir,
      playbook(dir)
        .replace('  c: local\n', '  c: local\n  d: local\n  e: local\nserial: 2\n')
        .replace("args: { cmd: 'test -e {vars.d}/ready-{host}' }", "args: { cmd: 'test -e {vars.d}/ready-{host}' }\n    on_failure: abort"),
    );
    for (const h of ['a', 'b', 'd', 'e']) writeFileSync(join(dir, `ready-${h}`), '');
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'plain']);
    expect(first.code, first.stderr).toBe(3);
    expect(readReport(join(dir, 'r1.json')).hosts).toEqual({ a: 'ok', b: 'ok', c: 'failed', d: 'cancelled', e: 'cancelled' });
    const plan = await runCli(['plan', pb, '--resume', join(dir, 'r1.json')]);
    expect(plan.stdout).toMatch(/c from step 2\n\s+d from step 3\n\s+e from step 1\n/);
    writeFileSync(join(dir, 'ready-c'), '');
    const second = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--output', 'plain']);
    expect(second.code, second.stderr).toBe(0);
    expect(lines(join(dir, 'first.log'))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(lines(join(dir, 'last.log'))).toEqual(['a:0', 'b:0', 'c:0', 'd:0', 'e:0']);
  });

  it('a host that ran past an ignored error restarts where it stopped, not at that error', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      playbook(dir)
        .replace(
          "args: { cmd: 'echo {host} >> {vars.d}/first.log' }",
          "args: { cmd: 'echo {host} >> {vars.d}/first.log; test {host} != a' }\n    on_failure: ignore",
        )
        .replace("args: { cmd: 'test -e {vars.d}/ready-{host}' }", "args: { cmd: 'test -e {vars.d}/ready-{host}' }\n    on_failure: abort"),
    );
    for (const h of ['a', 'c']) writeFileSync(join(dir, `ready-${h}`), '');
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'plain']);
    expect(first.code, first.stderr).toBe(3);
    const plan = await runCli(['plan', pb, '--resume', join(dir, 'r1.json')]);
    expect(plan.stdout).toMatch(/a from step 3\n\s+b from step 2\n\s+c from step 3\n/);
  });

  it('a host dropped by a failure restarts there, not at a later step that targeted it as failed (on: failed(gate))', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      playbook(dir).replace(
        "    args: { cmd: 'test -e {vars.d}/ready-{host}' }\n",
        "    args: { cmd: 'test -e {vars.d}/ready-{host}' }\n    register: gate\n",
      ) +
        `  - name: logs of failed hosts
    call: shell
    args: { cmd: 'echo {host} >> {vars.d}/logs.log; false' }
    on: failed(gate)
`,
    );
    for (const h of ['a', 'c']) writeFileSync(join(dir, `ready-${h}`), '');
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'plain']);
    expect(first.code, first.stderr).toBe(2);
    expect(lines(join(dir, 'logs.log'))).toEqual(['b']);
    const plan = await runCli(['plan', pb, '--resume', join(dir, 'r1.json')]);
    expect(plan.stdout).toContain('b from step 2');
    writeFileSync(join(dir, 'ready-b'), '');
    const second = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--json', join(dir, 'r2.json'), '--output', 'plain']);
    expect(second.code, second.stderr).toBe(0);
    expect(readReport(join(dir, 'r2.json')).hosts).toEqual({ b: 'ok' });
    // The gate and the step after it ran on b; the failed hosts' step did not (b passed the gate).
    expect(lines(join(dir, 'last.log'))).toEqual(['a:0', 'b:0', 'c:0']);
    expect(lines(join(dir, 'logs.log'))).toEqual(['b']);
  });

  it('a host that failed only in finally reruns that finally step, and not the ones before it', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { a: local, b: local }
steps:
  - call: ping
finally:
  - name: log
    call: shell
    args: { cmd: 'echo {host} >> ${dir}/log' }
  - name: cleanup
    call: shell
    args: { cmd: 'case {host} in b) test -e ${dir}/fixed;; esac' }
`,
    );
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'plain']);
    expect(readReport(join(dir, 'r1.json')).hosts, first.stderr).toEqual({ a: 'ok', b: 'failed' });
    writeFileSync(join(dir, 'fixed'), '');
    const second = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--json', join(dir, 'r2.json'), '--output', 'plain']);
    expect(second.code, second.stderr).toBe(0);
    const r2 = readReport(join(dir, 'r2.json'));
    expect(r2.hosts).toEqual({ b: 'ok' });
    expect(r2.steps.map((s) => s.targets)).toEqual([[], [], ['b']]);
    expect(lines(join(dir, 'log'))).toEqual(['a', 'b']);
  });

  it('refuses when the playbook changed since the report, and runs nothing', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, playbook(dir));
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'quiet']);
    expect(first.code).toBe(2);
    writeFileSync(pb, `${playbook(dir)}# edited\n`);
    const again = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--output', 'quiet']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/playbook changed since that run/);
    expect(lines(join(dir, 'first.log'))).toEqual(['a', 'b', 'c']);
  });

  it('refuses a file that is not a run report', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, playbook(dir));
    writeFileSync(join(dir, 'bogus.json'), '{"version": 1}');
    const r = await runCli(['plan', pb, '--resume', join(dir, 'bogus.json')]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/not a Chopsticks run report/);
  });
});

describe('--resume and decisions of the earlier run', () => {
  /** A health-check filter decides who gets the deploy; a gate fails where the host is not ready. */
  const health = (d: string) => `version: 1
vars: { d: "${d}" }
hosts:
  a: local
  b: local
steps:
  - name: health
    filter: test
    args: { cmd: 'test -e {vars.d}/ready-{host}' }
    as: healthy
  - name: gate
    call: shell
    args: { cmd: 'test -e {vars.d}/ready-{host}' }
  - name: deploy
    call: shell
    args: { cmd: 'echo {host} >> {vars.d}/deploy.log' }
    on: healthy
`;

  it('refuses the report of a --check run (exit 5, saying why)', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, health(dir));
    const check = await runCli(['run', pb, '--check', '--json', join(dir, 'check.json'), '--output', 'quiet']);
    expect(readReport(join(dir, 'check.json')).check).toBe(true);
    expect(check.code, check.stderr).toBe(0);
    for (const cmd of ['run', 'plan']) {
      const r = await runCli([cmd, pb, '--resume', join(dir, 'check.json')]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(
        /--resume: .*check\.json: that is the report of a --check run: it changed nothing, so there is nothing to resume/,
      );
    }
    expect(lines(join(dir, 'deploy.log'))).toEqual([]);
  });

  it('after fixing a host that failed a health-check filter, resume reruns the filter', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, health(dir));
    writeFileSync(join(dir, 'ready-a'), '');
    const first = await runCli(['run', pb, '--json', join(dir, 'r1.json'), '--output', 'quiet']);
    expect(first.code, first.stderr).toBe(2);
    expect(readReport(join(dir, 'r1.json')).groups.healthy).toEqual(['a']);
    expect(lines(join(dir, 'deploy.log'))).toEqual(['a']);

    // b stopped at the gate (step 2), but the deploy reads `healthy`, decided by step 1 from stale data.
    const plan = await runCli(['plan', pb, '--resume', join(dir, 'r1.json')]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('b from step 1');

    writeFileSync(join(dir, 'ready-b'), '');
    const second = await runCli(['run', pb, '--resume', join(dir, 'r1.json'), '--json', join(dir, 'r2.json'), '--output', 'quiet']);
    expect(second.code, second.stderr).toBe(0);
    const r2 = readReport(join(dir, 'r2.json'));
    expect(r2.steps[0]!.results.b).toMatchObject({ ok: true, value: true });
    expect(r2.groups.healthy).toEqual(['b']);
    expect(lines(join(dir, 'deploy.log'))).toEqual(['a', 'b']);
  });
});
