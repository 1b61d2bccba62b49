/**
 * Commands other than a plain run (docs/cli.md#commands): `run --check`, `plan` (+ `--json`), `validate`,
 * `schema`, and command-line misuse.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('run --check', () => {
  it('skips mutating calls, reports would-change puts without writing, fetch reports size and sha1 and writes nothing', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'app.conf'), 'port = 80\n');
    writeFileSync(join(dir, 'remote.log'), 'log line\n');
    // b already has the file with the same content and mode: no change would be made there.
    mkdirSync(join(dir, 'put', 'b'), { recursive: true });
    writeFileSync(join(dir, 'put', 'b', 'app.conf'), 'port = 80\n', { mode: 0o644 });
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  a: local
  b: local
steps:
  - call: shell
    args: { cmd: 'touch ${dir}/mutated-{host}' }
  - call: command
    args: { argv: [touch, '${dir}/mutated2-{host}'] }
  - call: facts.file
    args: { path: ${dir}/remote.log }
  - put: files/app.conf
    to: ${dir}/put/{host}/
    mode: "0644"
  - fetch: ${dir}/remote.log
    to: ${dir}/fetched/{host}.log
  - filter: test
    args: { cmd: 'test {host} = a' }
    as: only_a
`,
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    expect(rep.check).toBe(true);
    expect(rep.status).toBe('ok');
    const [shell, command, facts, put, fetch] = rep.steps;
    for (const s of [shell!, command!]) {
      for (const h of ['a', 'b']) expect(s.results[h]).toMatchObject({ ok: true, outcome: 'would_change', changed: true });
    }
    expect(existsSync(join(dir, 'mutated-a'))).toBe(false);
    expect(existsSync(join(dir, 'mutated2-a'))).toBe(false);
    expect(facts!.results.a).toMatchObject({ ok: true, value: { exists: true, size: 9, sha1sum: sha1('log line\n') } });
    expect(facts!.results.a).toMatchObject({ outcome: 'ok' });
    expect(shell!.results.a).toMatchObject({ value: { would_run: 'shell', args: { cmd: `touch ${dir}/mutated-a` } } });
    expect(put!.results.a).toMatchObject({ ok: true, changed: true, value: { remote_path: join(dir, 'put', 'a', 'app.conf') } });
    expect(put!.results.a).toMatchObject({ outcome: 'would_change' });
    expect(put!.results.b).toMatchObject({ ok: true, changed: false, outcome: 'ok' });
    expect(existsSync(join(dir, 'put', 'a'))).toBe(false);
    for (const h of ['a', 'b']) {
      expect(fetch!.results[h]).toMatchObject({
        ok: true,
        value: { size: 9, sha1sum: sha1('log line\n'), remote_path: join(dir, 'remote.log') },
      });
    }
    expect(existsSync(join(dir, 'fetched'))).toBe(false);
    // Filters are read-only and still decide their groups.
    expect(rep.groups.only_a).toEqual(['a']);
    expect(r.stderr).toMatch(/check mode/);
  });
});

describe('plan', () => {
  const planPlaybook = (d: string) => {
    mkdirSync(join(d, 'files'));
    writeFileSync(join(d, 'files', 'x.bin'), 'xyz');
    return writePlaybook(
      d,
      `version: 1
vars: { release: "2.4" }
hosts:
  web1: local
  web2: { transport: ssh, host: 10.255.255.1, user: deploy }
  db: docker://db
groups:
  web: [web1, web2]
steps:
  - call: command
    args: { argv: [echo, "{vars.release}", "{host}"] }
    on: web
  - filter: test
    args: { cmd: 'true' }
    as: good
  - put: files/x.bin
    to: /opt/app-{vars.release}/
    on: good & web
`,
    );
  };

  it('prints the same bytes twice, connects to nothing, and fills what it can', async () => {
    dir = tempDir();
    const pb = planPlaybook(dir);
    const one = await runCli(['plan', pb]);
    const two = await runCli(['plan', pb]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(two.stdout);
    expect(one.stdout).toContain(sha1('xyz'));
    expect(one.stdout).toContain('2.4');
    // The ssh host is unroutable and the docker engine absent: plan must not have tried (it was fast and quiet).
    expect(one.stderr).toBe('');
  });

  it('--json parses and describes hosts, groups and steps', async () => {
    dir = tempDir();
    const pb = planPlaybook(dir);
    const one = await runCli(['plan', pb, '--json']);
    const two = await runCli(['plan', pb, '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(two.stdout);
    const plan = JSON.parse(one.stdout) as Record<string, unknown>;
    const text = JSON.stringify(plan);
    for (const word of ['web1', 'web2', 'db', 'good', 'files/x.bin', sha1('xyz')]) expect(text).toContain(word);
    expect(Array.isArray(plan.steps)).toBe(true);
    expect((plan.steps as unknown[]).length).toBe(3);
  });
});

describe('validate', () => {
  it('prints FILE:LINE:COL: message for every problem, exits 4 and runs nothing', async () => {
    dir = tempDir();
    const marker = join(dir, 'ran');
    const bad = writePlaybook(
      dir,
      `version: 1
hosts:
  a: local
groups:
  g1: g2
  g2: g1
steps:
  - call: shell
    args: { cmd: 'touch ${marker}' }
  - put: x
    mode: 0644
  - call: ping
    on: nope
    bogus: 1
`,
      'bad.yaml',
    );
    const good = writePlaybook(
      dir,
      `version: 1\nhosts:\n  a: local\nsteps:\n  - call: shell\n    args: { cmd: 'touch ${marker}' }\n`,
      'good.yaml',
    );
    const r = await runCli(['validate', good, bad]);
    expect(r.code).toBe(4);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(bad));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) expect(l).toMatch(/^.+bad\.yaml:\d+:\d+: \S/);
    expect(lines.some((l) => l.startsWith(`${bad}:5:`) && l.includes('cycle'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${bad}:11:`) && l.includes('0644'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${bad}:13:`) && l.includes('nope'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${bad}:14:`) && l.includes('bogus'))).toBe(true);
    expect(r.stdout).toContain(`${good}: valid`);
    expect(existsSync(marker)).toBe(false);
    // run and plan refuse the same playbook the same way.
    for (const cmd of ['run', 'plan']) {
      const x = await runCli([cmd, bad]);
      expect(x.code, cmd).toBe(4);
      expect(x.stderr).toContain(`${bad}:13:`);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('a valid playbook validates with exit 0', async () => {
    dir = tempDir();
    const good = writePlaybook(dir, `version: 1\nhosts:\n  a: local\nsteps:\n  - call: ping\n`);
    const r = await runCli(['validate', good]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('schema and usage', () => {
  it('schema prints the playbook JSON Schema', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { $schema: string };
    expect(schema.$schema).toContain('json-schema.org');
    expect(r.stdout).toBe(readFileSync(join(process.cwd(), 'schema', 'playbook.schema.json'), 'utf8'));
  });

  it('usage errors exit 5 and say what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage/],
      [['run'], /missing PLAYBOOK/],
      [['plan', 'a.yaml', 'b.yaml'], /unexpected argument/],
      [['schema', 'extra'], /unexpected argument/],
      [['run', 'x.yaml', '--var', 'novalue'], /NAME=VALUE/],
      [['run', 'x.yaml', '--json'], /json/],
      [['validate'], /missing PLAYBOOK/],
      [['hosts'], /missing PLAYBOOK/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      // Bare `chopsticks` is a command line without a command: usage on stderr, exit 5.
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });

  it('a playbook file that does not exist is exit 4 with its name', async () => {
    const r = await runCli(['run', '/nonexistent/playbook.yaml']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('/nonexistent/playbook.yaml');
  });
});
