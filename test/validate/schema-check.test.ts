import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { parseYaml } from '../../src/parse/parse-yaml.js';
import { checkSchema } from '../../src/validate/schema-check.js';

function check(text: string, kind: 'playbook' | 'inventory' | 'include' = 'playbook'): string[] {
  const parsed = parseYaml('p.yaml', text);
  expect(parsed.problems).toEqual([]);
  return checkSchema(parsed, parsed.value, kind).map(formatProblem);
}

describe('schema check', () => {
  it('accepts a playbook with every kind of host, group and step', () => {
    const text = `version: 1
name: Roll out
vars: { release: "2.4.1" }
hosts:
  web1: ssh://deploy@10.0.0.11
  web2: { transport: ssh, host: 10.0.0.12, user: deploy, port: 2222 }
  worker1: docker://worker1
  scratch: { transport: docker, image: "debian:12", ephemeral: true }
  builder: local
groups:
  web: [web1, web2]
  fleet: web | worker1
defaults: { on_failure: continue, timeout: 60s }
serial: [1, "50%"]
steps:
  - call: facts.os
    on: fleet
    register: os
  - filter: test
    args: { cmd: "command -v systemctl" }
    as: systemd_hosts
  - put: dist/app.tgz
    to: /opt/app/
    mode: "0640"
  - fetch: /var/log/app.log
    to: logs/{host}/app.log
`;
    expect(check(text)).toEqual([]);
  });

  it('unknown top-level key with did-you-mean at the key position', () => {
    expect(check('version: 1\nstep:\n  - call: ping\nsteps:\n  - call: ping\n')).toEqual([
      "p.yaml:2:1: unknown key 'step' at the top of the playbook; did you mean 'steps'?",
    ]);
  });

  it('integer mode gets the quoting message at the value', () => {
    expect(check('version: 1\nsteps:\n  - put: a\n    mode: 0644\n')).toEqual([
      'p.yaml:4:11: mode 644 is a YAML integer; quote it: mode: "0644"',
    ]);
  });

  it('an integer mode written in YAML 1.2 octal gets the same digits back', () => {
    expect(check('version: 1\nsteps:\n  - put: a\n    mode: 0o640\n')).toEqual([
      'p.yaml:4:11: mode 416 is a YAML integer; quote it: mode: "0640"',
    ]);
  });

  it('a misspelt common step key gets a did-you-mean', () => {
    expect(check('version: 1\nsteps:\n  - call: ping\n    registr: r\n  - fetch: /x\n    onn: web\n')).toEqual([
      "p.yaml:4:5: unknown key 'registr' in a step; did you mean 'register'?",
      "p.yaml:6:5: unknown key 'onn' in a step; did you mean 'on'?",
    ]);
  });

  it('a step with two kinds or none', () => {
    const out = check('version: 1\nsteps:\n  - call: ping\n    put: x\n  - name: nothing\n');
    expect(out).toEqual([
      'p.yaml:3:5: a step has more than one of call, filter, put, fetch, template, sync, assert (call, put); split it into one step each',
      'p.yaml:5:5: a step needs one of call, filter, put, fetch, template, sync, assert (or include: FILE)',
    ]);
  });

  it('step keys of another kind, host keys of another transport, bad durations', () => {
    const out = check(`version: 1
hosts:
  a: { transport: ssh, host: x, prot: 22 }
  b: { transport: local, image: x }
steps:
  - call: ping
    as: g
    timeout: 5x
  - filter: test
`);

    expect(out).toContain("p.yaml:3:33: unknown key 'prot' for an ssh host; did you mean 'port'?");
    expect(out).toContain("p.yaml:4:26: 'image' is not a setting of a local host (it is one for docker hosts)");
    expect(out).toContain("p.yaml:7:5: 'as' is not a key of a call step (it belongs to filter steps)");
    expect(out).toContain('p.yaml:8:14: timeout: "5x" is not a duration; write e.g. "60s", "500ms", "1m" or a number of seconds');
    expect(out).toContain("p.yaml:9:5: a filter step needs 'as: GROUP', the name of the group of hosts where it is true");
    expect(out).toHaveLength(5);
  });

  it('host_defaults: the same guidance as hosts (did you mean, the transport a key belongs to)', () => {
    const out = check(`version: 1
host_defaults:
  ssh: { prot: 22, container: x }
  sshh: {}
  docker: { imag: x }
steps:
  - call: ping
`);

    expect(out).toEqual([
      "p.yaml:3:10: unknown key 'prot' in host_defaults.ssh; did you mean 'port'?",
      "p.yaml:3:20: 'container' is not a setting of an ssh host in host_defaults (it is one for docker hosts)",
      "p.yaml:4:3: unknown key 'sshh' in host_defaults; did you mean 'ssh'?",
      "p.yaml:5:13: unknown key 'imag' in host_defaults.docker; did you mean 'image'?",
    ]);
  });

  it('max_failures, serial, enum hints, version', () => {
    const out = check(`version: 2
strategy: lineer
serial: "x"
steps:
  - call: ping
    max_failures: "ten"
    on_failure: abrt
`);
    expect(out).toEqual([
      'p.yaml:1:10: version must be 1 (the only playbook format version)',
      "p.yaml:2:11: 'strategy' must be one of linear, free; did you mean 'linear'?",
      'p.yaml:3:9: serial: "x" must be a batch size N, a percentage "P%", or a list such as [1, 5, "50%"]',
      'p.yaml:6:19: max_failures: "ten" must be a number of hosts (0 or more) or a percentage like "10%"',
      "p.yaml:7:17: 'steps[0].on_failure' must be one of continue, abort, ignore; did you mean 'abort'?",
    ]);
  });

  it('included files hold steps and vars (and x- anchor keys); a misspelt key gets a did-you-mean', () => {
    expect(check('x-common: &c { call: ping }\nvars: {}\nsteps:\n  - <<: *c\n', 'include')).toEqual([]);
    expect(check('stepz: []\nsteps:\n  - call: ping\n', 'include')).toEqual([
      "p.yaml:1:1: unknown key 'stepz' in an included file (it may hold steps, vars); did you mean 'steps'?",
    ]);
  });

  it('an include step takes include, name, on, vars: a step setting on it is said to belong on the included steps', () => {
    const pb = 'version: 1\nhosts: { a: local }\nsteps:\n  - include: x.yaml\n    on_failure: ignore\n    nmae: setup\n';
    expect(check(pb)).toEqual([
      "p.yaml:5:5: an include step takes only include, name, on, vars; 'on_failure' belongs on the included steps (set it on each step of the included file)",
      "p.yaml:6:5: unknown key 'nmae' in an include step; did you mean 'name'?",
    ]);
  });

  it('inventory documents allow only hosts, groups, vars', () => {
    expect(check('hosts: { a: local }\nsteps: []\n', 'inventory')).toEqual([
      "p.yaml:2:1: unknown key 'steps' in an inventory file (it may hold hosts, groups, host_defaults, group_vars, vars); expected one of hosts, groups, host_defaults, group_vars, vars",
    ]);
  });

  it('readable messages for empty lists, empty strings and ranges', () => {
    expect(check('version: 1\nhosts:\n  a: { transport: ssh, port: 70000 }\ndefaults: { retries: -1 }\nsteps: []\n')).toEqual([
      "p.yaml:3:30: 'hosts.a.port' must be <= 65535, not 70000",
      "p.yaml:4:22: 'defaults.retries' must be >= 0, not -1",
      "p.yaml:5:8: 'steps' needs at least 1 step",
    ]);
    expect(check('version: 1\nsteps:\n  - call: ""\n')).toEqual(["p.yaml:3:11: 'steps[0].call' must not be empty"]);
  });
});
