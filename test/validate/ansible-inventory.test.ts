/** Ansible inventories, INI and YAML, as inventory files (docs/ansible.md#inventories). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';
import { expandAnsiblePattern } from '../../src/validate/ansible-inventory.js';

const FIX = resolve('test/fixtures/ansible');

async function withInventory(inv: string, steps = 'steps: [ { call: ping } ]') {
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-ansible-'));
  const file = join(dir, 'pb.yaml');
  writeFileSync(file, `version: 1\n${steps}\n`);
  return loadPlaybook(file, { inventory: [join(FIX, inv)] });
}

const byName = (r: Awaited<ReturnType<typeof withInventory>>) => new Map(r.playbook!.hosts.map((h) => [h.name, h]));
const fmt = (ps: Array<Parameters<typeof formatProblem>[0]>) => ps.map((p) => formatProblem(p).replace(`${FIX}/`, ''));

describe('Ansible INI inventory', () => {
  it("docker hosts through the community.docker connection plugins' full names; a range of containers", async () => {
    const r = await withInventory('docker-fleet.ini');
    expect(fmt(r.problems)).toEqual([]);
    expect(fmt(r.warnings)).toEqual([]);
    const h = byName(r);
    expect([...h.keys()]).toEqual(['app1', 'app2', 'app3', 'worker1', 'worker2']);
    // No ansible_host: the container is the host's name, as for `docker://NAME`.
    expect(h.get('app2')).toMatchObject({ transport: 'docker', container: 'app2', vars: { service: 'shop' } });
    expect(h.get('worker1')).toMatchObject({ transport: 'docker', container: 'shop-worker-1' });
    expect(h.get('worker2')).toMatchObject({ transport: 'docker', container: 'worker2' });
  });

  it('sections, children, group vars, ranges, host:port, ansible_* fields, quoted values', async () => {
    const r = await withInventory('docs-example.ini');
    expect(r.problems).toEqual([]);
    const h = byName(r);
    expect([...h.keys()]).toEqual([
      'mail.example.com',
      'foo.example.com',
      'bar.example.com',
      'www01.example.com',
      'www02.example.com',
      'www03.example.com',
      'db-a.example.com',
      'db-b.example.com',
      'db-c.example.com',
      'control',
    ]);
    // Host vars beat child group vars beat parent group vars; inline values are typed, :vars values are strings.
    expect(h.get('foo.example.com')).toMatchObject({
      transport: 'ssh',
      host: 'foo.example.com',
      user: 'ops',
      vars: { http_port: 80, maxRequestsPerChild: 808, ntp_server: 'ntp.atlanta.example.com' },
    });
    expect(h.get('bar.example.com')).toMatchObject({ port: 2222, user: 'deploy', vars: { http_port: '8080' } });
    expect(h.get('control')).toMatchObject({ transport: 'local', vars: { greeting: 'hello world', quoted: 'x=y' } });
    const groups = Object.fromEntries(r.playbook!.groups.map((g) => [g.name, g.expr.value]));
    expect(groups).toMatchObject({
      webservers: expect.stringContaining('www03.example.com') as unknown,
      prod: 'webservers | dbservers',
      local: 'control',
    });
    expect(fmt(r.warnings)).toEqual(['docs-example.ini:10:22: ansible_python_interpreter has no meaning in Chopsticks and is ignored']);
  });

  it('problems are positioned in the inventory file', async () => {
    const r = await withInventory('bad.ini');
    expect(fmt(r.problems)).toEqual([
      "bad.ini:2:4: host pattern 'web[05:01]': range 05:01 goes down; write 01:05",
      "bad.ini:3:7: 'novalue' is not NAME=VALUE; host variables are written key=value after the host name",
      "bad.ini:5:1: '[web:oops]': a section is [web], [web:children] or [web:vars]",
      "bad.ini:9:1: 'not a pair' is not NAME=VALUE (a [web:vars] line)",
    ]);
  });

  it('an unknown group in a step points at the playbook; a bad host field at the inventory line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-ansible-'));
    writeFileSync(join(dir, 'inv.ini'), '[web]\nw1 ansible_port=99999\n');
    writeFileSync(join(dir, 'pb.yaml'), 'version: 1\ninventory: inv.ini\nsteps: [ { call: ping, on: web } ]\n');
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems.map((p) => formatProblem(p).replace(`${dir}/`, ''))).toEqual([expect.stringMatching(/^inv\.ini:2:4: .*65535/)]);
  });

  it('an ansible_port that is not a port number is one problem where it is written, whatever the hosts it covers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-ansible-'));
    writeFileSync(join(dir, 'inv.ini'), '[web]\nw1 ansible_port=abc\nw[2:9]\n[web:vars]\nansible_port=x22\n');
    writeFileSync(join(dir, 'pb.yaml'), 'version: 1\ninventory: inv.ini\nsteps: [ { call: ping } ]\n');
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems.map((p) => formatProblem(p).replace(`${dir}/`, ''))).toEqual([
      "inv.ini:2:4: ansible_port 'abc' is not a port number (1 to 65535)",
      "inv.ini:5:1: ansible_port 'x22' is not a port number (1 to 65535)",
    ]);
  });
});

describe('Ansible YAML inventory', () => {
  it('all: hosts/children/vars, nested groups, ranges, connection local and docker, become', async () => {
    const r = await withInventory('docs-example.yaml');
    expect(r.problems).toEqual([]);
    const h = byName(r);
    expect(h.get('mail.example.com')).toMatchObject({ transport: 'ssh', vars: { ntp_server: 'ntp.example.com' } });
    expect(h.get('bar.example.com')).toMatchObject({
      host: '192.0.2.50',
      port: 5555,
      user: 'deploy',
      identity_file: '~/.ssh/deploy',
      vars: { env: 'prod', http_port: 8080 },
    });
    expect(h.get('foo.example.com')!.vars).toMatchObject({ http_port: 80 });
    expect(h.get('db02.example.com')).toMatchObject({ become: 'postgres' });
    expect(h.get('control')).toMatchObject({ transport: 'local' });
    expect(h.get('box')).toMatchObject({ transport: 'docker', container: 'box-container' });
    expect(fmt(r.warnings)).toEqual(['docs-example.yaml:24:9: ansible_ssh_common_args has no meaning in Chopsticks and is ignored']);
  });

  it('hosts, children or vars that are not mappings are problems, not silently empty groups', async () => {
    const r = await withInventory('bad-shapes.yml');
    expect(fmt(r.problems)).toEqual([
      "bad-shapes.yml:5:9: 'hosts' of Ansible group 'web' must be a mapping, one key per host ('name:', not '- name')",
      "bad-shapes.yml:8:17: 'children' of Ansible group 'db' must be a mapping, one key per group ('name:', not '- name')",
      "bad-shapes.yml:9:13: 'vars' of Ansible group 'db' must be a mapping",
    ]);
  });

  it('a Chopsticks inventory is still read as one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-ansible-'));
    writeFileSync(join(dir, 'inv.yaml'), 'hosts: { a: local }\ngroups: { g: [a] }\n');
    writeFileSync(join(dir, 'pb.yaml'), 'version: 1\ninventory: inv.yaml\nsteps: [ { call: ping, on: g } ]\n');
    const r = await loadPlaybook(join(dir, 'pb.yaml'));
    expect(r.problems).toEqual([]);
    expect(r.playbook!.hosts[0]).toMatchObject({ name: 'a', transport: 'local' });
  });
});

describe("Ansible's built-in group ungrouped", () => {
  const members = (r: Awaited<ReturnType<typeof withInventory>>, g: string) =>
    r.playbook!.groups.find((x) => x.name === g)?.members?.map((m) => m.value);

  it('INI: the hosts in no group but all, usable in on:', async () => {
    const r = await withInventory('docs-example.ini', 'steps: [ { call: ping, on: ungrouped } ]');
    expect(fmt(r.problems)).toEqual([]);
    expect(members(r, 'ungrouped')).toEqual(['mail.example.com']);
  });

  it('YAML: the hosts written under all: hosts only', async () => {
    const r = await withInventory('docs-example.yaml', 'steps: [ { call: ping, on: ungrouped } ]');
    expect(fmt(r.problems)).toEqual([]);
    expect(members(r, 'ungrouped')).toEqual(['mail.example.com']);
  });

  it("an inventory's own [ungrouped] or the playbook's group wins; two inventories' add up", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-ansible-'));
    // Written out: kept, and reconciled as Ansible does (a1 is in no group, a3 is in web).
    writeFileSync(join(dir, 'own.ini'), 'a1\n[ungrouped]\na2\na3\n[web]\na3\n');
    writeFileSync(join(dir, 'one.ini'), 'b1\n[web]\nb2\n');
    writeFileSync(join(dir, 'two.yaml'), 'all:\n  hosts: { c1: }\n  children: { db: { hosts: { c2: } } }\n');
    const load = async (inv: string[], extra = '') => {
      writeFileSync(join(dir, 'pb.yaml'), `version: 1\n${extra}steps: [ { call: ping, on: ungrouped } ]\n`);
      const r = await loadPlaybook(join(dir, 'pb.yaml'), { inventory: inv.map((f) => join(dir, f)) });
      expect(r.problems.map((p) => formatProblem(p))).toEqual([]);
      return r.playbook!.groups.find((g) => g.name === 'ungrouped')!.expr.value;
    };
    expect(await load(['own.ini'])).toBe('a1 | a2');
    expect(await load(['one.ini', 'two.yaml'])).toBe('b1 | c1');
    expect(await load(['one.ini'], 'hosts: { z: local }\ngroups: { ungrouped: [z] }\n')).toBe('z');
  });
});

describe('expandAnsiblePattern', () => {
  it.each<[string, string[]]>([
    ['web[01:03]', ['web01', 'web02', 'web03']],
    ['db-[a:c].lan', ['db-a.lan', 'db-b.lan', 'db-c.lan']],
    ['n[1:9:4]', ['n1', 'n5', 'n9']],
    ['r[1:2]x[a:b]', ['r1xa', 'r1xb', 'r2xa', 'r2xb']],
  ])('%s', (p, want) => {
    expect(expandAnsiblePattern(p)).toEqual({ ok: true, names: want });
  });
});
