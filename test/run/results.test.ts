/**
 * docs/language.md#call: a call's result must be JSON. A custom callable returning NaN, a function, a
 * `__proto__` key, more than 1 MiB (and the other non-JSON shapes) is that host's
 * `invalid_result`; the other hosts and later steps go on. A remote command passing the limit is
 * stopped.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cleanup, ensureBuilt, FIXTURES, parseReport, processesMatching, runCli, tempDir, waitFor, writePlaybook } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const BAD = ['nan', 'fn', 'proto', 'ctorproto', 'big', 'cyclic', 'bigint', 'undef', 'deep'];

describe('JSON-only results', () => {
  it("each non-JSON value is its host's invalid_result; the run goes on for the others", async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
callables:
  bad: ${join(FIXTURES, 'callables', 'bad-results.mjs')}#byHost
hosts:
${[...BAD, 'good'].map((h) => `  ${h}: local`).join('\n')}
steps:
  - call: bad
    register: b
  - call: ping
  - call: ping
    on: failed(b)
`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const first = rep.steps[0]!.results;
    for (const h of BAD) {
      const res = first[h]!;
      expect(res.ok, h).toBe(false);
      if (!res.ok) {
        expect(res.error.kind, h).toBe('invalid_result');
        expect(res.error.msg.startsWith(`${h}: `), res.error.msg).toBe(true);
      }
      expect(rep.hosts[h]).toBe('failed');
    }
    expect(first.good).toMatchObject({ ok: true, value: { fine: 'good' } });
    expect(rep.steps[1]!.targets).toEqual(['good']);
    expect(rep.steps[2]!.targets).toEqual(BAD);
    // Nothing of the hostile values made it into the report.
    expect(r.stdout).not.toContain('polluted');
    expect(r.stdout.length).toBeLessThan(200_000);
  });

  it('a template reading the result of a step that failed or was skipped on that host says so', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { a: local, b: local, c: local }
steps:
  - call: shell
    args: { cmd: "test {host} != b" }
    when: { "!=": [{ var: host }, c] }
    register: probe
    on_failure: ignore
  - call: shell
    args: { cmd: "echo {results.probe.rc}" }
    on_failure: ignore
`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    const res = parseReport(r.stdout).steps[1]!.results;
    expect(res.a).toMatchObject({ ok: true });
    const msg = (h: string) => {
      const x = res[h]!;
      return x.ok ? '' : x.error.msg;
    };
    expect(msg('b')).toContain('the step with register: probe failed on b (failed)');
    expect(msg('c')).toContain('register: probe was skipped on c (its when: was false)');
  });

  it('a remote command that passes 1 MiB of output is stopped and is invalid_result', async () => {
    dir = tempDir();
    const marker = `yes chopsticks-e2e-${process.pid}`;
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n  a: local\n  b: local\nsteps:\n  - call: shell\n    args: { cmd: '${marker}' }\n    on: a\n  - call: ping\n`,
    );
    const r = await runCli(['run', pb, '--json', '-'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const a = rep.steps[0]!.results.a!;
    expect(!a.ok && a.error.kind).toBe('invalid_result');
    expect(rep.steps[1]!.targets).toEqual(['b']);
    expect(await waitFor(() => processesMatching(marker).length === 0, 3_000)).toBe(true);
  });

  it('max_result moves the limit: a step-level 100 bytes refuses 200, a default of 4MiB allows 2 MiB', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
defaults: { max_result: 4MiB }
hosts:
  a: local
steps:
  - call: shell
    args: { cmd: 'yes | head -c 2097152' }
  - call: shell
    args: { cmd: 'yes | head -c 200' }
    max_result: 100
`,
    );
    const r = await runCli(['run', pb, '--json', '-'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const big = rep.steps[0]!.results.a!;
    expect(big.ok && (big.value as { stdout: string }).stdout.length).toBe(2097152);
    const small = rep.steps[1]!.results.a!;
    expect(!small.ok && small.error.kind).toBe('invalid_result');
    const plan = await runCli(['plan', pb]);
    expect(plan.stdout).toContain('max_result 100 bytes');
  });
});
