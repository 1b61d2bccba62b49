import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, type PlaybookProblem } from '../../src/errors.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';

const DIR = 'test/fixtures/playbooks';

/** `LINE:COL: message` for problems in the fixture itself, full `FILE:…` for any other file. */
async function problemsOf(fixture: string, opts = {}): Promise<string[]> {
  const file = `${DIR}/${fixture}`;
  const r = await loadPlaybook(file, opts);
  expect(r.playbook).toBeUndefined();
  return r.problems.map((p) => (p.pos.file === file ? formatProblem(p).slice(file.length + 1) : formatProblem(p)));
}

async function codesOf(fixture: string): Promise<Array<PlaybookProblem['code']>> {
  return (await loadPlaybook(`${DIR}/${fixture}`)).problems.map((p) => p.code);
}

describe('loadPlaybook: valid playbook → model', () => {
  it('resolves identity_file, known_hosts and cwd against the folder of the defining file; keeps ~ and absolute paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-paths-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'hosts:',
        '  a: { transport: ssh, host: h, identity_file: keys/id, known_hosts: ~/.ssh/kh }',
        '  b: { transport: ssh, host: h, identity_file: /abs/id, known_hosts: ../kh }',
        '  c: { transport: local, cwd: work }',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    );
    const r = await loadPlaybook(file);
    expect(r.problems).toEqual([]);
    const [a, b, c] = r.playbook!.hosts;
    expect(a).toMatchObject({ identity_file: join(dir, 'keys/id'), known_hosts: '~/.ssh/kh' });
    expect(b).toMatchObject({ identity_file: '/abs/id', known_hosts: join(dir, '../kh') });
    expect(c).toMatchObject({ cwd: join(dir, 'work') });
  });

  it('expands host strings, fills defaults and names steps', async () => {
    const r = await loadPlaybook(`${DIR}/valid/spec-example.yaml`, { vars: { release: '9.9' } });
    expect(r.problems).toEqual([]);
    const pb = r.playbook!;
    expect(pb.vars).toEqual({ release: '9.9' });
    expect(pb.hosts.map((h) => [h.name, h.transport])).toEqual([
      ['web1', 'ssh'],
      ['web2', 'ssh'],
      ['worker1', 'docker'],
      ['scratch', 'docker'],
      ['builder', 'local'],
    ]);
    const web1 = pb.hosts[0]!;
    expect(web1).toMatchObject({
      host: '10.0.0.11',
      user: 'deploy',
      connect_timeout_ms: 10000,
      keepalive_ms: 15000,
      keepalive_count: 3,
    });
    expect('port' in web1).toBe(false);
    // Silent: ~/.ssh/config's StrictHostKeyChecking, else strict, applies at connect time.
    expect('host_key_check' in web1).toBe(false);
    expect(pb.hosts[1]).toMatchObject({ port: 2222 });
    expect(pb.hosts[3]).toMatchObject({ image: 'debian:12', ephemeral: true });
    expect(pb.steps.map((s) => s.name)).toEqual([
      'call facts.os',
      'filter test',
      'put dist/app-{vars.release}.tar.gz',
      'fetch /var/log/app/app.log',
    ]);
    expect(pb.steps[0]!.policy).toEqual({ on_failure: 'continue', retries: 0, retry_delay_ms: 1000, timeout_ms: 60000 });
    const put = pb.steps[2]!;
    expect(put.kind === 'put' && put.mode).toBe(0o640);
    expect(pb.steps[0]!.on.value).toBe('fleet');
    expect(pb.steps[0]!.pos).toMatchObject({ line: 26, col: 5 });
    expect(pb.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('merges inventory files; identical host definitions are fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-inv-'));
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  a: ssh://u@h\n  b: local\ngroups:\n  g: [a, b]\nvars:\n  x: inv\n  y: inv\n');
    writeFileSync(
      join(dir, 'pb.yaml'),
      'version: 1\ninventory: inv.yaml\nvars: { y: pb }\nhosts:\n  a: { transport: ssh, host: h, user: u }\n  c: local\nsteps:\n  - call: ping\n    on: g | c\n',
    );
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems.map(formatProblem)).toEqual([]);
    expect(r.playbook!.hosts.map((h) => h.name)).toEqual(['a', 'b', 'c']);
    expect(r.playbook!.vars).toEqual({ x: 'inv', y: 'pb' });
    expect(r.playbook!.groups.map((g) => [g.name, g.expr.value])).toEqual([['g', 'a | b']]);
  });

  it("--inventory files come after the playbook's own and --var overrides all vars", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-inv-'));
    writeFileSync(join(dir, 'extra.yaml'), 'hosts:\n  z: local\nvars:\n  v: extra\n');
    writeFileSync(join(dir, 'pb.yaml'), 'version: 1\nsteps:\n  - call: ping\n    on: z\n');
    const r = await loadPlaybook(join(dir, 'pb.yaml'), { inventory: [join(dir, 'extra.yaml')], vars: { w: '1' } });
    expect(r.problems).toEqual([]);
    expect(r.playbook!.hosts.map((h) => h.name)).toEqual(['z']);
    expect(r.playbook!.vars).toEqual({ v: 'extra', w: '1' });
  });

  it('reads a custom callable module: readonly and schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-cc-'));
    writeFileSync(
      join(dir, 'm.mjs'),
      "export const readonly = true;\nexport const schema = { type: 'object', required: ['n'] };\nexport default async () => 1;\n",
    );
    writeFileSync(
      join(dir, 'pb.yaml'),
      'version: 1\nhosts: { h: local }\ncallables: { mine: ./m.mjs }\nsteps:\n  - call: mine\n    args: { n: 1 }\n',
    );
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems).toEqual([]);
    expect(r.playbook!.callables).toEqual([
      {
        name: 'mine',
        module: join(dir, 'm.mjs'),
        exportName: 'default',
        readonly: true,
        pos: expect.objectContaining({ line: 3 }) as unknown,
      },
    ]);
  });

  it('a missing playbook is a file_not_found problem', async () => {
    const r = await loadPlaybook(`${DIR}/nope.yaml`);
    expect(r.problems.map((p) => [p.code, formatProblem(p)])).toEqual([
      ['file_not_found', `${DIR}/nope.yaml:1:1: playbook ${DIR}/nope.yaml does not exist`],
    ]);
  });
});

describe('loadPlaybook: each problem kind, positioned', () => {
  it('alias bomb stops at the alias limit', async () => {
    const out = await problemsOf('invalid/alias-bomb.yaml');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^7:10: too many YAML alias expansions \(limit 1000\)/);
    expect(await codesOf('invalid/alias-bomb.yaml')).toEqual(['alias_limit']);
  });

  it('deep nesting is refused before parsing', async () => {
    expect(await problemsOf('invalid/deep-nesting.yaml')).toEqual([
      '3:204: the document is nested more than 200 levels deep; a playbook never needs that',
    ]);
  });

  it('__proto__ keys are refused wherever they are', async () => {
    const out = await problemsOf('invalid/proto-key.yaml');
    expect(out).toContain('3:3: the key __proto__ is not allowed anywhere in a playbook; rename it');
    expect(out).toContain('7:13: the key __proto__ is not allowed anywhere in a playbook; rename it');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('duplicate keys, and the problems after them (validate reports every problem at once)', async () => {
    expect(await problemsOf('invalid/duplicate-key.yaml')).toEqual([
      "4:3: duplicate key 'web1': a key may appear only once in a mapping; remove or rename one",
      "8:11: unknown callable 'nope'; declare it under callables: or use a built-in such as facts.os, command, shell",
      "9:5: unknown key 'bogus_key' in a step; expected one of name, on, register, on_failure, max_failures, retries, retry_delay, timeout, become, concurrency, max_result, check_mode, when, loop, run_once, args",
    ]);
    expect(await codesOf('invalid/duplicate-key.yaml')).toEqual(['duplicate_key', 'unknown_callable', 'unknown_key']);
  });

  it('unquoted octal modes and bad mode strings', async () => {
    expect(await problemsOf('invalid/octal-mode.yaml')).toEqual([
      '5:11: mode 644 is a YAML integer; quote it: mode: "0644"',
      '7:11: mode "rwx" is not an octal file mode; write it quoted, like "0644" or "0755"',
      '9:33: file: mode 488 is a YAML integer; quote it: mode: "0750"',
    ]);
    expect((await codesOf('invalid/octal-mode.yaml'))[0]).toBe('octal_mode');
  });

  it('unknown names with hints, including a-b → a - b', async () => {
    expect(await problemsOf('invalid/unknown-names.yaml')).toEqual([
      "8:10: group 'typo': unknown host or group 'web01'; did you mean 'web1'?",
      "11:9: on: unknown host or group 'a-b'; did you mean 'a - b'?",
      "13:16: on: unknown host or group 'wbe1'; did you mean 'web1'?",
    ]);
  });

  it('ambiguous names: host and group, filter group named like a host', async () => {
    expect(await problemsOf('invalid/ambiguous-name.yaml')).toEqual([
      "6:3: 'web' is both a host and a group; rename one of them",
      "10:9: as: 'db' is already a host; name the filter's group differently",
    ]);
  });

  it('group cycles name the cycle', async () => {
    expect(await problemsOf('invalid/group-cycle.yaml')).toEqual([
      '5:3: groups form a cycle: a -> b -> c -> a; a group cannot contain itself',
    ]);
  });

  it('env names a shell cannot export are found before the run (host env, host_defaults, command env)', async () => {
    const why = "is not an environment variable name: use letters, digits and '_', not starting with a digit";
    expect(await problemsOf('invalid/env-names.yaml')).toEqual([
      `3:43: 'B C' ${why}`,
      `3:53: '1X' ${why}`,
      `3:62: 'A=B' ${why}`,
      `5:19: '-x' ${why}`,
      `8:45: command: arg 'env': 'X Y' ${why}`,
    ]);
  });

  it('each problem is said once: no second message from another check for the same mistake', async () => {
    expect(await problemsOf('invalid/said-once.yaml')).toEqual([
      "3:7: host 'b1': 'ssh://' is not a host address; write local, ssh://[user@]host[:port], docker://container or a bare hostname",
      "10:9: as: 'bad name' is not a valid name: start with a letter or digit, then letters, digits, '.', '_' or '-' (at most 253)",
      "12:9: 'steps[2].on' must not be empty",
      "14:18: 'steps[3].retry_delay' must be >= 0, not -1",
      "15:10: 'steps[4].put' must not be empty",
    ]);
  });

  it('a hostvar or register a host the step surely runs on will not have is found before the run', async () => {
    expect(await problemsOf('invalid/refs-per-host.yaml')).toEqual([
      "13:27: template {hostvars.port}: host 'h2' has no var 'port', and this step runs on it; give it the var (in its vars, group_vars or host_defaults) or leave it out of on:",
      "15:27: template {results.only2}: step 1 (register: only2) never runs on 'h1', and this step does, so it has no results.only2 there; narrow on: (e.g. ok(only2))",
    ]);
  });

  it('jump naming a non-ssh or unknown host', async () => {
    expect(await problemsOf('invalid/jump-bad.yaml')).toEqual([
      "4:50: jump: 'bastion' is a local host; a bastion must be an ssh host",
      "5:50: jump: 'bastoin' is not a host of this playbook; did you mean 'bastion'?",
    ]);
  });

  it('callables: load failures, unknown names, args against schemas, templated args', async () => {
    const out = await problemsOf('invalid/callables.yaml');
    expect(out.map((l) => l.split(join(process.cwd(), DIR)).join('…'))).toEqual([
      "6:12: callable 'missing': module …/callables/nope.mjs does not exist; the path is relative to the playbook's folder",
      "7:13: callable 'noexport': …/callables/good.mjs has no function as an export 'other'; it exports deploy (write ./../callables/good.mjs#NAME)",
      "9:11: unknown callable 'facts.oss'; did you mean 'facts.os'?",
      "11:13: facts.disk: unknown arg 'pth'; did you mean 'path'?",
      "13:19: command: arg 'argv' must be a list",
      "14:11: command needs arg 'argv'",
      "16:22: good: arg 'version' must be a string",
      // A templated arg is not held to the schema (it may be any type at run time), only checked as a template.
      "18:23: template {vars.v}: no var 'v' is defined",
    ]);
  });

  it('connect_timeout: 0 is refused: it would wait for ever on a host that does not answer', async () => {
    const why = 'connect_timeout: 0 would wait for ever on a host that does not answer; give a duration such as "10s" (the default)';
    expect(await problemsOf('invalid/connect-timeout-zero.yaml')).toEqual([`3:57: ${why}`, `4:57: ${why}`]);
  });

  it('an arg template that reads only playbook vars is checked as the value it will be', async () => {
    expect(await problemsOf('invalid/vars-filled-args.yaml')).toEqual([
      "6:18: shell: arg 'cmd' must be a string ({vars.n} is 7)",
      "8:26: command: arg 'argv.1' must be a string ({vars.codes} is [0,3])",
    ]);
  });

  it('templates: unknown vars, registers used too early, bad roots, syntax', async () => {
    expect(await problemsOf('invalid/templates.yaml')).toEqual([
      "8:24: template {vars.relase}: no var 'relase' is defined (did you mean 'release'?)",
      "8:38: template {results.os.id}: no earlier step has 'register: os'",
      "11:31: template {unknown}: unknown name 'unknown'; use host, vars, hostvars, results or secrets",
      "12:14: template {hostvars.rolee}: no host defines var 'rolee' (did you mean 'role'?)",
      "13:21: template {host.name}: {host} is the host's name; it has no 'name'",
      "14:23: unclosed '{' in template (write '{{' for a literal brace)",
    ]);
  });

  it('outcome sets and filter groups used before their step; duplicate register', async () => {
    expect(await problemsOf('invalid/outcomes.yaml')).toEqual([
      "6:8: group 'bad': failed(deploy) is decided during the run; use it in a step's on:, not in groups",
      "9:9: on: failed(deploy) is used before step 2, which registers 'deploy'; move this step after it",
      "9:26: on: no earlier step has 'register: nothing'",
      "14:9: on: group 'systemd' is made by the filter of step 4, which has not run yet at step 3",
      "19:15: register: 'deploy' is already used by step 2; each register name must be unique",
    ]);
  });

  it('fetch paths must be unique per host, after normalisation', async () => {
    const out = await problemsOf('invalid/fetch-collision.yaml');
    const abs = join(process.cwd(), DIR, 'invalid/logs/app.log');
    expect(out).toEqual([
      `7:9: fetch to 'logs/app.log' gives hosts h1 and h2 the same local path ${abs}; put {host} in a folder or file name, e.g. logs/{host}/file`,
      "9:9: fetch to 'logs/{host}/../app.log': '..' after a placeholder would leave the folder the path names; write the destination without '..'",
      `9:9: fetch to 'logs/{host}/../app.log' gives hosts h1 and h2 the same local path ${abs}; put {host} in a folder or file name, e.g. logs/{host}/file`,
      "16:9: fetch to 'logs/{results.r.name}.log' must contain {host} when the step has more than one target (2 possible); e.g. logs/{host}/file",
      "16:15: template {results.r.name}: no earlier step has 'register: r'",
    ]);
    expect(await codesOf('invalid/fetch-collision.yaml')).toContain('fetch_collision');
  });

  it('host names and host strings', async () => {
    expect(await problemsOf('invalid/host-names.yaml')).toEqual([
      "3:3: host '-bad' is not a valid name: start with a letter or digit, then letters, digits, '.', '_' or '-' (at most 253)",
      "4:3: host '..' cannot be a name: it would be a folder in local paths",
      "5:9: host 'good': 'ssh://user@host:99999' is not a host address; write local, ssh://[user@]host[:port], docker://container or a bare hostname",
      "6:3: 'all' is the group of every host; a host cannot be named all",
      "7:7: host 'pw': the address holds a password (user:password@); a playbook never holds one: put it in an environment variable and name that with password_env, or use a key",
    ]);
  });

  it('a host defined differently in an inventory is a conflict at both places', async () => {
    expect(await problemsOf('invalid/host-conflict.yaml')).toEqual([
      `5:3: host 'web2' is also defined at ${DIR}/inventory/base.yaml:3:3 with different settings; keep one definition`,
      `${DIR}/inventory/base.yaml:3:3: host 'web2' is also defined at ${DIR}/invalid/host-conflict.yaml:5:3 with different settings; keep one definition`,
    ]);
    expect(await codesOf('invalid/host-conflict.yaml')).toEqual(['host_conflict', 'host_conflict']);
  });

  it('reports ALL problems of a file with many, in file order', async () => {
    const abs = join(process.cwd(), DIR, 'invalid/out.txt');
    expect(await problemsOf('invalid/many-problems.yaml')).toEqual([
      "2:1: unknown key 'stesp' at the top of the playbook; did you mean 'steps'?",
      "5:25: unknown key 'prot' for an ssh host; did you mean 'port'?",
      "7:11: group 'g': unknown host or group 'h3'; did you mean 'h1'?",
      "9:11: unknown callable 'pnig'; did you mean 'ping'?",
      '11:11: mode 755 is a YAML integer; quote it: mode: "0755"',
      "13:13: on: unknown host or group 'nope'",
      '14:14: timeout: "soon" is not a duration; write e.g. "60s", "500ms", "1m" or a number of seconds',
      `16:9: fetch to 'out.txt' gives hosts h1 and h2 the same local path ${abs}; put {host} in a folder or file name, e.g. logs/{host}/file`,
    ]);
  });

  it('group expression syntax errors point into the expression', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-expr-'));
    writeFileSync(
      join(dir, 'pb.yaml'),
      'version: 1\nhosts: { a: local, b: local }\nsteps:\n  - call: ping\n    on: a & (b |\n  - call: ping\n    on: "\'a*\' - b"\n',
    );
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems.map((p) => [p.code, p.pos.line])).toEqual([['group_expr', 5]]);
    expect(r.problems[0]!.message).toMatch(/^on: /);
  });

  it('a custom module that fails to import is a callable_load problem at its entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-cc-'));
    writeFileSync(join(dir, 'bad.mjs'), 'export default async () => {\n');
    writeFileSync(join(dir, 'pb.yaml'), 'version: 1\ncallables:\n  bad: ./bad.mjs\nsteps:\n  - call: bad\n');
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems.map((p) => [p.code, p.pos.line, p.pos.col])).toEqual([['callable_load', 3, 8]]);
    expect(r.problems[0]!.message).toMatch(/^callable 'bad': importing .*bad\.mjs failed: /);
  });

  it('outcome sets after their step and globs are valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chop-ok-'));
    writeFileSync(
      join(dir, 'pb.yaml'),
      'version: 1\nhosts: { web1: local, web2: local }\nsteps:\n  - call: ping\n    register: p\n  - call: ping\n    on: "failed(p) & \'web*\'"\n',
    );
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems).toEqual([]);
  });
});
