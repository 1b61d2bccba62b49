/** `chopsticks exec FILE EXPR -- ARGV` / `--shell CMD` (docs/cli.md#exec) on local hosts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

describe('exec', () => {
  it('runs one argv on the hosts EXPR selects from a playbook (its steps are not run); --json report', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { web1: local, web2: local, db1: local }
groups: { web: ['web*'] }
steps:
  - call: shell
    args: { cmd: "touch ${join(dir, 'must-not-exist')}" }
`,
    );
    const json = join(dir, 'r.json');
    const r = await runCli(['exec', pb, 'web', '-o', 'plain', '--json', json, '--', 'sh', '-c', 'echo "hi {x}"; echo $0 >/dev/null']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exec: sh -c echo "hi {x}"');
    expect(r.stdout).toMatch(/changed web\[1-2\]: .*hi \{x\}/);
    const report = parseReport(readFileSync(json, 'utf8'));
    expect(Object.keys(report.hosts)).toEqual(['web1', 'web2']);
    expect(report.steps).toHaveLength(1);
    expect(() => readFileSync(join(dir, 'must-not-exist'))).toThrow();
  });

  it('--shell on an inventory file (Ansible INI), exit 2 when a host fails, --junit, --limit narrows', async () => {
    dir = tempDir();
    const inv = join(dir, 'hosts.ini');
    writeFileSync(inv, '[web]\nw[1:3] ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    const junit = join(dir, 'j.xml');
    const r = await runCli([
      'exec',
      inv,
      'web',
      '--limit',
      'all - w3',
      '-o',
      'plain',
      '--junit',
      junit,
      '--shell',
      'test "$(hostname)" && [ {{}} ] && exit 4',
    ]);
    expect(r.code).toBe(2);
    for (const h of ['w1', 'w2']) expect(r.stdout).toMatch(new RegExp(`FAILED ${h}: failed: ${h}: .*exited 4`));
    // As a word: the temp folder's random name (shown in the header) may hold "w3".
    expect(r.stdout).toContain('(2 hosts,');
    expect(r.stdout).not.toMatch(/\bw3\b/);
    expect(r.stderr).toContain('hosts.ini:2:33: warning: ansible_python_interpreter has no meaning in Chopsticks and is ignored');
    expect(readFileSync(junit, 'utf8')).toContain('<testsuite');
  });

  it('validate with an Ansible inventory warns on stderr and still passes', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'hosts.ini'), 'h1 ansible_connection=local ansible_ssh_extra_args=-v\n');
    const pb = writePlaybook(dir, 'version: 1\ninventory: hosts.ini\nsteps: [ { call: ping } ]\n');
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/hosts\.ini:1:29: warning: ansible_ssh_extra_args has no meaning/);
  });

  it('usage errors: an unknown name, no command, both forms', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, 'version: 1\nhosts: { a: local }\nsteps: [ { call: ping } ]\n');
    const unknown = await runCli(['exec', pb, 'nosuch', '--', 'true']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("unknown host or group 'nosuch'");
    expect((await runCli(['exec', pb, 'all'])).code).toBe(5);
    expect((await runCli(['exec', pb, 'all', '--shell', 'true', '--', 'true'])).code).toBe(5);
    // A mistake in --limit is placed in --limit, not in EXPR.
    const badLimit = await runCli(['exec', pb, 'all', '--limit', 'a*', '--', 'true']);
    expect(badLimit.code).toBe(5);
    expect(badLimit.stderr).toContain("--limit 'a*': unexpected character '*'");
    expect(badLimit.stderr).toContain("(at column 2 of 'a*')");
    // As for run, a --limit that leaves no host is exit 5.
    const empty = await runCli(['exec', pb, 'all', '--limit', 'all - a', '--', 'true']);
    expect(empty.code).toBe(5);
    expect(empty.stderr).toContain("--limit 'all - a' selects no host of 'all'");
    // So does an EXPR that selects nothing: a mistyped glob must not pass having run nothing.
    const none = await runCli(['exec', pb, "'zz*'", '--', 'true']);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("the expression 'zz*' selects no host; nothing would run");
  });
});

describe('exec --shard', () => {
  it('the shards of one exec split the hosts with no overlap and record the shard', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, 'version: 1\nhosts:\n  h[1-6]: local\nsteps:\n  - call: ping\n');
    const seen: string[] = [];
    for (const i of [0, 1, 2]) {
      const r = await runCli(['exec', pb, 'all', '--shard', `${i}/3`, '--output', 'quiet', '--json', '-', '--', 'true']);
      expect(r.code, r.stderr).toBe(0);
      const rep = parseReport(r.stdout);
      expect(rep.shard).toMatchObject({ index: i, count: 3 });
      seen.push(...rep.steps[0]!.targets);
    }
    expect(seen.sort()).toEqual(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
  });
});
