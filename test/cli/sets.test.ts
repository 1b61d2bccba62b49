/**
 * Set algebra (docs/language.md#groups-and-set-algebra) through the CLI: outcome sets of registered steps, filter groups (with
 * `exclude`), groups and globs, `--limit`, and `hosts PLAYBOOK EXPR`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

function setsPlaybook(d: string): string {
  writeFileSync(join(d, 'f.txt'), 'same\n');
  // web1 already holds the file (unchanged); db2's folder is a plain file (the put fails).
  mkdirSync(join(d, 'out', 'web1'), { recursive: true });
  writeFileSync(join(d, 'out', 'web1', 'f.txt'), 'same\n', { mode: 0o644 });
  writeFileSync(join(d, 'out', 'db2'), 'not a folder');
  return writePlaybook(
    d,
    `version: 1
hosts:
  web1: local
  web2: local
  web3: local
  db1: local
  db2: local
  # Refused at once; password_env so the transport really tries to connect.
  gone: { transport: ssh, host: 127.0.0.1, port: 1, user: nobody, password_env: CHOPSTICKS_TEST_PW }
groups:
  web: "'web*'"
  db: [db1, db2]
steps:
  - put: f.txt
    to: ${d}/out/{host}/f.txt
    mode: "0644"
    register: up
  - name: changed
    call: ping
    on: changed(up)
  - name: ok but unchanged
    call: ping
    on: ok(up) - changed(up)
  - name: failed
    call: ping
    on: failed(up)
  - name: unreachable
    call: ping
    on: unreachable(up)
  - name: failed db
    call: ping
    on: failed(up) & db
  - name: not web3
    filter: test
    args: { cmd: 'test {host} = web3' }
    exclude: true
    on: web
    as: not3
  - name: not3 xor db
    call: ping
    on: not3 ^ db
`,
  );
}

describe('set algebra through a run', () => {
  it('outcome sets, failed() reaching dropped hosts, filter groups with exclude', async () => {
    dir = tempDir();
    const pb = setsPlaybook(dir);
    const r = await runCli(['run', pb, '--json', '-'], { env: { CHOPSTICKS_TEST_PW: 'x' } });
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const targets = Object.fromEntries(rep.steps.map((s) => [s.name, s.targets]));
    expect(targets).toEqual({
      'put f.txt': ['web1', 'web2', 'web3', 'db1', 'db2', 'gone'],
      changed: ['web2', 'web3', 'db1'],
      'ok but unchanged': ['web1'],
      failed: ['db2'],
      unreachable: ['gone'],
      'failed db': ['db2'],
      'not web3': ['web1', 'web2', 'web3'],
      // db2 failed under on_failure: continue, so a plain group no longer reaches it.
      'not3 xor db': ['web1', 'web2', 'db1'],
    });
    expect(rep.groups).toEqual({ web: ['web1', 'web2', 'web3'], db: ['db1', 'db2'], not3: ['web1', 'web2'] });
    expect(rep.hosts).toEqual({ web1: 'ok', web2: 'ok', web3: 'ok', db1: 'ok', db2: 'failed', gone: 'unreachable' });
  });

  it('--limit intersects every step with the expression', async () => {
    dir = tempDir();
    const pb = setsPlaybook(dir);
    const r = await runCli(['run', pb, '--json', '-', '--limit', 'web - web3 | db2'], { env: { CHOPSTICKS_TEST_PW: 'x' } });
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const targets = Object.fromEntries(rep.steps.map((s) => [s.name, s.targets]));
    expect(targets['put f.txt']).toEqual(['web1', 'web2', 'db2']);
    expect(targets.changed).toEqual(['web2']);
    expect(targets.unreachable).toEqual([]);
    expect(targets['not web3']).toEqual(['web1', 'web2']);
    // gone was never targeted, so it has no end state to report.
    expect(rep.hosts.gone).toBeUndefined();
    expect(rep.hosts.web3).toBeUndefined();
  });

  it('an unknown name in --limit is a usage error (exit 5) with a hint', async () => {
    dir = tempDir();
    const pb = setsPlaybook(dir);
    const r = await runCli(['run', pb, '--limit', 'web-db'], { env: { CHOPSTICKS_TEST_PW: 'x' } });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("did you mean 'web - db'?");
    expect(r.stderr).toContain('web-db');
  });
});

describe('hosts dropped by on_failure: continue', () => {
  it('come back only through the failed()/unreachable() set that names them, not through a union with another group', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  a: local
  b: local
  c: local
steps:
  - name: build
    call: shell
    args: { cmd: 'test {host} != a' }
  - name: deploy
    call: shell
    args: { cmd: 'test {host} != b' }
    register: deploy
  - name: logs or all
    call: ping
    on: failed(deploy) | all
  - name: logs of failed deploys
    call: ping
    on: failed(deploy) & all
`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const targets = Object.fromEntries(rep.steps.map((s) => [s.name, s.targets]));
    expect(targets.deploy).toEqual(['b', 'c']);
    // a failed at build, not at deploy: `all` no longer holds it, and failed(deploy) never did.
    expect(targets['logs or all']).toEqual(['b', 'c']);
    expect(targets['logs of failed deploys']).toEqual(['b']);
  });
});

describe('chopsticks hosts', () => {
  it("'web - canary' lists the hosts an expression selects, in definition order", async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  web3: local
  web1: local
  web2: { transport: ssh, host: 10.0.0.12, user: deploy, port: 2222 }
  db1: local
groups:
  web: [web1, web2, web3]
  canary: [web2]
steps:
  - call: ping
`,
    );
    const r = await runCli(['hosts', pb, 'web - canary']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('web3\tlocal\nweb1\tlocal\n');
    const all = await runCli(['hosts', pb]);
    expect(
      all.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['web3', 'web1', 'web2', 'db1']);
    expect(all.stdout).toContain('web2\tssh\tdeploy@10.0.0.12:2222');
    const notWeb = await runCli(['hosts', pb, 'all - web']);
    expect(notWeb.code, notWeb.stderr).toBe(0);
    expect(notWeb.stdout).toBe('db1\tlocal\n');
    const bad = await runCli(['hosts', pb, 'web-canary']);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("did you mean 'web - canary'?");
  });

  it('takes filter groups and outcome sets, listing every host they could hold; --limit refuses both, saying why', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { a: local, b: local, c: local }
steps:
  - filter: ping
    as: alive
  - call: ping
    on: alive - a
    register: p
`,
    );
    const r = await runCli(['hosts', pb, 'failed(p) | alive']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('a\tlocal\nb\tlocal\nc\tlocal\n');
    const unknown = await runCli(['hosts', pb, 'failed(nope)']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('no step has register: nope');
    const limitGroup = await runCli(['run', pb, '--limit', 'alive']);
    expect(limitGroup.code).toBe(5);
    expect(limitGroup.stderr).toContain(
      "group 'alive' is made by a filter step during the run; --limit takes hosts and groups known before it",
    );
    const limitOutcome = await runCli(['run', pb, '--limit', 'failed(p)']);
    expect(limitOutcome.code).toBe(5);
    expect(limitOutcome.stderr).toContain('failed(p) is decided during the run; --limit takes hosts and groups known before it');
  });
});

describe('host and group names made of digits', () => {
  it('keep definition order in hosts, plan, targets and the report text (a JS object would list "3" before "20" before "b")', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  b: local
  "20": local
  "3": local
  a: local
groups: { z: [a], "9": [b], "5": [a] }
steps:
  - call: ping
`,
    );
    const hosts = await runCli(['hosts', pb]);
    expect(
      hosts.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['b', '20', '3', 'a']);
    const r = await runCli(['run', pb, '--json', '-', '--output', 'quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { steps: Array<{ targets: string[] }> };
    expect(report.steps[0]!.targets).toEqual(['b', '20', '3', 'a']);
    // Parsed JSON reorders such keys again, so the order is read from the text itself.
    const keyOrder = (section: string, keys: string[]) => {
      const at = r.stdout.indexOf(`"${section}": {`);
      return keys.map((k) => r.stdout.indexOf(`"${k}": `, at));
    };
    const ascending = (xs: number[]) => xs.every((x, i) => x > 0 && (i === 0 || x > xs[i - 1]!));
    expect(ascending(keyOrder('results', ['b', '20', '3', 'a']))).toBe(true);
    expect(ascending(keyOrder('hosts', ['b', '20', '3', 'a']))).toBe(true);
    expect(ascending(keyOrder('groups', ['z', '9', '5']))).toBe(true);
  });
});
