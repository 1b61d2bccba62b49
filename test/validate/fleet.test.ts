/** Host ranges, host_defaults, group_vars, YAML merge keys and vars files (docs/language.md#fleets-and-reuse). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';
import { compile } from '../../src/compile/index.js';
import { formatPlanText, planToJson } from '../../src/compile/format-plan.js';

function write(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-fleet-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function load(files: Record<string, string>, opts = {}) {
  const dir = write(files);
  const file = join(dir, 'pb.yaml');
  const r = await loadPlaybook(file, opts);
  return { ...r, dir, file, text: r.problems.map((p) => formatProblem(p).replace(`${dir}/`, '')) };
}

describe('host ranges', () => {
  it('defines one host per expanded name, with {host} filled in string fields', async () => {
    const r = await load({
      'pb.yaml': [
        'version: 1',
        'hosts:',
        '  web[01-03]: { transport: ssh, host: "{host}.prod.example.com", vars: { id: "{host}", n: 1 } }',
        '  node[1-2,7]: "ssh://deploy@{host}.lan"',
        '  rack[1-2]-db[1-2]: local',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(r.text).toEqual([]);
    const hosts = r.playbook!.hosts;
    expect(hosts.map((h) => h.name)).toEqual([
      'web01',
      'web02',
      'web03',
      'node1',
      'node2',
      'node7',
      'rack1-db1',
      'rack1-db2',
      'rack2-db1',
      'rack2-db2',
    ]);
    expect(hosts[1]).toMatchObject({ transport: 'ssh', host: 'web02.prod.example.com', vars: { id: 'web02', n: 1 } });
    expect(hosts[5]).toMatchObject({ transport: 'ssh', host: 'node7.lan', user: 'deploy' });
    const text = formatPlanText(compile(r.playbook!));
    expect(text).toMatch(/^ {2}web\[01-03\] +ssh \{host\}\.prod\.example\.com$/m);
    expect(text).toMatch(/^ {2}node\[1-2,7\] +ssh deploy@\{host\}\.lan$/m);
    expect(text).toMatch(/^ {2}rack1-db\[1-2\],rack2-db\[1-2\] +local$/m);
    expect(text).toContain('Hosts (10):');
  });

  it("{host} is the name in every host's fields; any other placeholder in a host field is a problem where it is written", async () => {
    const ok = await load({
      'pb.yaml': [
        'version: 1',
        'hosts:',
        '  c2: { transport: docker, container: "bed-{host}", vars: { own: "{host}" } }',
        '  c3: "docker://bed-{host}"',
        '  web: { transport: ssh, host: "{host}.lan" }',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(ok.text).toEqual([]);
    const [c2, c3, web] = ok.playbook!.hosts;
    expect(c2).toMatchObject({ container: 'bed-c2', vars: { own: '{host}' } });
    expect(c3).toMatchObject({ container: 'bed-c3' });
    expect(web).toMatchObject({ host: 'web.lan' });

    const bad = await load({
      'pb.yaml': [
        'version: 1',
        'vars: { n: "1", c: bed-c1 }',
        'host_defaults: { ssh: { user: "{vars.user}" } }',
        'hosts:',
        '  single: { transport: docker, container: "{vars.c}" }',
        '  s[1-4]: { transport: ssh, host: "127.0.10.{vars.n}" }',
        '  t: "ssh://127.0.10.{vars.n}:22"',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    const tail =
      "is never filled: hosts are resolved before vars and secrets, and only {host} (the host's name) is filled in their fields; write the value itself";
    expect(bad.text).toEqual([
      `pb.yaml:5:43: host 'single': {vars.c} in container ${tail}`,
      // Said once for the range, at the host that takes it when it comes from host_defaults.
      `pb.yaml:6:11: host 's[1-4]': {vars.user} in user (from host_defaults) ${tail}`,
      `pb.yaml:6:35: host 's[1-4]': {vars.n} in host ${tail}`,
      `pb.yaml:7:6: host 't': {vars.user} in user (from host_defaults) ${tail}`,
      `pb.yaml:7:6: host 't': {vars.n} in host ${tail}`,
    ]);
  });

  it('bad ranges are problems at the key, FILE:LINE:COL', async () => {
    const r = await load({
      'pb.yaml': [
        'version: 1',
        'hosts:',
        '  web[40-01]: local',
        '  n[1-200000]: local',
        '  x[1-2: local',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(r.text).toEqual([
      "pb.yaml:3:7: host range 'web[40-01]': range 40-01 goes down; write 01-40",
      "pb.yaml:4:5: host range 'n[1-200000]': the range n[1-200000] makes more than 100000 hosts (the limit); split the fleet or narrow the range",
      "pb.yaml:5:4: host range 'x[1-2': '[' is not closed; write a range such as web[01-40]",
    ]);
  });

  it('a range that repeats a host with other settings is a conflict', async () => {
    const r = await load({
      'pb.yaml': ['version: 1', 'hosts:', '  web[1-3]: local', '  web2: ssh://x', 'steps: [ { call: ping } ]'].join('\n'),
    });
    expect(r.text.join('\n')).toMatch(/host 'web2' is also defined at/);
  });
});

describe('host_defaults and group_vars', () => {
  const files = {
    'pb.yaml': [
      'version: 1',
      'host_defaults:',
      '  ssh: { user: deploy, port: 2222, identity_file: keys/id }',
      '  docker: { docker_host: unix:///run/d.sock }',
      '  vars: { tier: none, region: eu }',
      '  become: app',
      'hosts:',
      '  web1: 10.0.0.1',
      '  web2: { transport: ssh, host: 10.0.0.2, user: root, vars: { tier: mine } }',
      '  db1: ssh://admin@10.0.0.3',
      '  box: { transport: docker, container: c1, become: root }',
      'groups:',
      '  web: [web1, web2]',
      '  canary: [web1]',
      '  db: [db1]',
      'group_vars:',
      '  canary: { tier: canary }',
      '  web: { tier: web, port: 80 }',
      '  all: { tier: all, everyone: true }',
      'steps: [ { call: ping } ]',
    ].join('\n'),
  };

  it('fills what a host leaves out; own fields and vars win, then later groups, then all, then defaults', async () => {
    const r = await load(files);
    expect(r.text).toEqual([]);
    const [web1, web2, db1, box] = r.playbook!.hosts;
    expect(web1).toMatchObject({ host: '10.0.0.1', user: 'deploy', port: 2222, identity_file: join(r.dir, 'keys/id'), become: 'app' });
    // canary comes after web in groups: order, so it wins for web1.
    expect(web1!.vars).toEqual({ tier: 'canary', region: 'eu', everyone: true, port: 80 });
    expect(web1!.sources).toMatchObject({
      user: 'host_defaults',
      host: 'host',
      'vars.tier': 'group_vars.canary',
      'vars.region': 'host_defaults',
      'vars.port': 'group_vars.web',
    });
    expect(web2).toMatchObject({ user: 'root', port: 2222, vars: { tier: 'mine', region: 'eu', everyone: true, port: 80 } });
    expect(web2!.sources).toMatchObject({ user: 'host', port: 'host_defaults', 'vars.tier': 'host' });
    expect(db1).toMatchObject({ user: 'admin', port: 2222, vars: { tier: 'all', region: 'eu', everyone: true } });
    expect(box).toMatchObject({ transport: 'docker', container: 'c1', docker_host: 'unix:///run/d.sock', become: 'root' });
    expect(box!.sources).toMatchObject({ become: 'host', docker_host: 'host_defaults' });
  });

  it('plan --json has a sources map per host; plan text shows where vars came from', async () => {
    const r = await load(files);
    const plan = compile(r.playbook!);
    const json = JSON.parse(planToJson(plan)) as { hosts: Array<{ name: string; sources?: Record<string, string> }> };
    expect(json.hosts[0]!.sources).toMatchObject({ user: 'host_defaults', 'vars.tier': 'group_vars.canary' });
    expect(formatPlanText(plan)).toContain(
      'vars: tier="canary" (group_vars.canary), region="eu" (host_defaults), everyone=true (group_vars.all), port=80 (group_vars.web)',
    );
  });

  it("{host} in host_defaults and group_vars is each host's name; a host's own {{host}} stays literal", async () => {
    const r = await load({
      'pb.yaml': [
        'version: 1',
        'host_defaults:',
        '  docker: { container: "app-{host}" }',
        '  ssh: { host: "{host}.lan", known_hosts: "kh/{host}" }',
        '  vars: { label: "box-{host}", keep: "{{host}}" }',
        '  become: "svc-{host}"',
        'hosts:',
        '  c[1-2]: { transport: docker }',
        '  solo: { transport: docker, vars: { own: "{host}" } }',
        '  web1: { transport: ssh }',
        'groups: { boxes: [c1, c2, solo] }',
        'group_vars:',
        '  boxes: { greet: "hi-{host}" }',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(r.text).toEqual([]);
    const [c1, c2, solo, web1] = r.playbook!.hosts;
    expect(c1).toMatchObject({ container: 'app-c1', become: 'svc-c1', vars: { label: 'box-c1', keep: '{{host}}', greet: 'hi-c1' } });
    expect(c2).toMatchObject({ container: 'app-c2', vars: { label: 'box-c2', greet: 'hi-c2' } });
    // A host's own vars are not templates of {host}; its fields are (docs/language.md#host-ranges).
    expect(solo).toMatchObject({ container: 'app-solo', vars: { label: 'box-solo', greet: 'hi-solo', own: '{host}' } });
    expect(web1).toMatchObject({ host: 'web1.lan', known_hosts: join(r.dir, 'kh/web1') });
    expect(formatPlanText(compile(r.playbook!))).toMatch(/^ {2}c\[1-2\] +docker container app-\{host\}, become svc-\{host\}$/m);
  });

  it('group_vars naming no group is a problem at its key', async () => {
    const r = await load({
      'pb.yaml': [
        'version: 1',
        'hosts: { a: local }',
        'groups: { web: [a] }',
        'group_vars:',
        '  wbe: { x: 1 }',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(r.text).toEqual([
      "pb.yaml:5:3: group_vars: 'wbe' is not a group; did you mean 'web'? (group_vars apply to groups defined under groups:)",
    ]);
  });

  it('host_defaults fields are checked like host fields', async () => {
    const r = await load({
      'pb.yaml': ['version: 1', 'host_defaults:', '  ssh: { usr: x }', 'hosts: { a: local }', 'steps: [ { call: ping } ]'].join('\n'),
    });
    expect(r.text).toEqual([expect.stringMatching(/^pb\.yaml:3:10: unknown key 'usr'/)]);
  });
});

describe('YAML merge keys', () => {
  it('<<: *anchor works in hosts and steps; problems in merged keys point at the anchor', async () => {
    const ok = await load({
      'pb.yaml': [
        'version: 1',
        'x-ssh: &ssh { transport: ssh, user: deploy, port: 2222, identity_file: /k }',
        'x-step: &step { on_failure: ignore, timeout: 5s }',
        'hosts:',
        '  a: { <<: *ssh, host: 10.0.0.1 }',
        '  b: { <<: *ssh, host: 10.0.0.2, port: 22 }',
        'steps:',
        '  - { <<: *step, call: ping }',
      ].join('\n'),
    });
    expect(ok.text).toEqual([]);
    expect(ok.playbook!.hosts[0]).toMatchObject({ user: 'deploy', port: 2222, host: '10.0.0.1' });
    expect(ok.playbook!.hosts[1]).toMatchObject({ port: 22 });
    expect(ok.playbook!.steps[0]!.policy).toMatchObject({ on_failure: 'ignore', timeout_ms: 5000 });

    const bad = await load({
      'pb.yaml': [
        'version: 1',
        'x-ssh: &ssh',
        '  transport: ssh',
        '  porrt: 2222',
        'hosts:',
        '  a: { <<: *ssh, host: h }',
        'steps: [ { call: ping } ]',
      ].join('\n'),
    });
    expect(bad.text).toEqual(["pb.yaml:4:3: unknown key 'porrt' for an ssh host; did you mean 'port'?"]);
  });
});

describe('vars_files and --var @FILE', () => {
  it('typed vars from YAML and JSON files; order: vars, vars_files, --var @FILE, --var K=V', async () => {
    const r = await load(
      {
        'pb.yaml': [
          'version: 1',
          'vars: { a: 0, b: 0, c: 0, d: 0 }',
          'vars_files: [common.yaml, more.json]',
          'hosts: { h: local }',
          'steps: [ { call: ping } ]',
        ].join('\n'),
        'common.yaml': 'a: 1\nb: 1\nc: 1\nlist: [1, 2]\n',
        'more.json': '{"b": 2, "c": 2, "nested": {"x": true}}',
      },
      {},
    );
    expect(r.text).toEqual([]);
    expect(r.playbook!.vars).toEqual({ a: 1, b: 2, c: 2, d: 0, list: [1, 2], nested: { x: true } });
    const cli = join(r.dir, 'cli.yaml');
    writeFileSync(cli, 'c: 3\nd: 3\n');
    const r2 = await loadPlaybook(r.file, { varFiles: [cli], vars: { d: 'str' } });
    expect(r2.playbook!.vars).toMatchObject({ a: 1, b: 2, c: 3, d: 'str' });
  });

  it('a missing or broken vars file is a problem with a position', async () => {
    const r = await load({
      'pb.yaml': ['version: 1', 'vars_files:', '  - nope.yaml', '  - bad.yaml', 'hosts: { h: local }', 'steps: [ { call: ping } ]'].join(
        '\n',
      ),
      'bad.yaml': '- 1\n- 2\n',
    });
    expect(r.text).toEqual([
      expect.stringMatching(/^pb\.yaml:3:5: vars file .*nope\.yaml does not exist$/),
      'bad.yaml:1:1: a vars file is a mapping of NAME: value',
    ]);
  });
});
