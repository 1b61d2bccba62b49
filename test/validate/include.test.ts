/** `include: FILE` steps (docs/language.md#include): expansion, positions, cycles, vars, plan origin. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';
import { compile } from '../../src/compile/index.js';
import { formatPlanText, planToJson } from '../../src/compile/format-plan.js';

async function load(files: Record<string, string>, opts: Parameters<typeof loadPlaybook>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-include-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const r = await loadPlaybook(join(dir, 'pb.yaml'), opts);
  return { ...r, dir, text: r.problems.map((p) => formatProblem(p).split(`${dir}/`).join('')) };
}

const PB = [
  'version: 1',
  'vars: { greeting: hi, port: 1 }',
  'hosts: { a: local, b: local, c: local }',
  'groups: { web: [a, b] }',
  'steps:',
  '  - call: ping',
  '  - include: roles/web.yaml',
  '    name: web role',
  '    on: web',
  '    vars: { port: 8080 }',
  '  - call: ping',
  '    name: after',
].join('\n');

describe('include', () => {
  it('inserts the steps of FILE: on intersected, names prefixed, include vars over file defaults, nested', async () => {
    const r = await load({
      'pb.yaml': PB,
      'roles/web.yaml': [
        'vars: { port: 80, who: role }',
        'steps:',
        '  - name: say',
        '    call: command',
        '    args: { argv: [echo, "{vars.greeting} {vars.who} {vars.port}"] }',
        '  - include: nested.yaml',
        '    name: inner',
        '    on: "all - b"',
      ].join('\n'),
      'roles/nested.yaml': [
        'steps:',
        '  - call: command',
        '    on: a | b | c',
        '    register: out',
        '    args: { argv: [echo, "{vars.who}"] }',
      ].join('\n'),
    });
    expect(r.text).toEqual([]);
    const plan = compile(r.playbook!);
    expect(plan.steps.map((s) => [s.index, s.name, s.targets.upper])).toEqual([
      [0, 'call ping', ['a', 'b', 'c']],
      [1, 'web role: say', ['a', 'b']],
      [2, 'web role: inner: call command', ['a']],
      [3, 'after', ['a', 'b', 'c']],
    ]);
    expect(plan.steps[1]!.vars).toEqual({ port: 8080, who: 'role' });
    const text = formatPlanText(plan);
    expect(text).toContain('args     {"argv":["echo","hi role 8080"]}');
    expect(text).toMatch(/from +.*roles\/web\.yaml:3/);
    expect(text).toMatch(/from +.*roles\/nested\.yaml:2/);
    const json = JSON.parse(planToJson(plan)) as { steps: Array<{ origin?: string }> };
    expect(json.steps[0]!.origin).toBeUndefined();
    expect(json.steps[2]!.origin).toMatch(/roles\/nested\.yaml:2$/);
    // Include vars reach only the included steps.
    expect(plan.vars).toEqual({ greeting: 'hi', port: 1 });
  });

  it("vars: the file's are defaults under the playbook's, the include's beat the playbook's, --var beats both", async () => {
    const files = {
      'pb.yaml': [
        'version: 1',
        'vars: { site: top, port: 1 }',
        'hosts: { a: local }',
        'steps:',
        '  - include: role.yaml',
        '    vars: { port: 8080, tier: given }',
      ].join('\n'),
      'role.yaml': [
        'vars: { site: role-default, who: role, port: 80 }',
        'steps:',
        '  - call: command',
        '    args: { argv: [echo, "{vars.site} {vars.who} {vars.port} {vars.tier}"] }',
      ].join('\n'),
    };
    const plain = await load(files);
    expect(plain.text).toEqual([]);
    expect(formatPlanText(compile(plain.playbook!))).toContain('args     {"argv":["echo","top role 8080 given"]}');
    const cli = await load(files, { vars: { port: '9', site: 'cli' } });
    expect(formatPlanText(compile(cli.playbook!))).toContain('args     {"argv":["echo","cli role 9 given"]}');
  });

  it('problems point into the included file', async () => {
    const r = await load({
      'pb.yaml': PB,
      'roles/web.yaml': [
        'steps:',
        '  - call: command',
        '    args: { argv: [echo, "{vars.nope}"] }',
        '    on: web | nosuch',
        '  - call: ping',
        '    retries: -1',
      ].join('\n'),
    });
    expect(r.text).toEqual([
      "roles/web.yaml:3:27: template {vars.nope}: no var 'nope' is defined",
      "roles/web.yaml:4:15: on: unknown host or group 'nosuch'",
      "roles/web.yaml:6:14: 'steps[1].retries' must be >= 0, not -1",
    ]);
  });

  it('a name made twice by a file included twice names both include sites', async () => {
    const r = await load({
      'pb.yaml': ['version: 1', 'hosts: { a: local }', 'steps:', '  - include: roles/reg.yaml', '  - include: roles/mid.yaml'].join('\n'),
      'roles/mid.yaml': ['steps:', '  - call: ping', '  - include: reg.yaml'].join('\n'),
      'roles/reg.yaml': ['steps:', '  - call: ping', '    register: r', '  - filter: test', '    args: { cmd: "true" }', '    as: fg'].join(
        '\n',
      ),
    });
    expect(r.text).toEqual([
      "roles/reg.yaml:3:15: register: 'r' is already used by step 1 (this step is included from roles/mid.yaml:3:5, from pb.yaml:5:5; " +
        'step 1 is included from pb.yaml:4:5); each register name must be unique (include the file once, or change the register name in it)',
      "roles/reg.yaml:6:9: as: group 'fg' is already made by the filter of step 2 (this step is included from roles/mid.yaml:3:5, from pb.yaml:5:5; " +
        'step 2 is included from pb.yaml:4:5); use another name (include the file once, or change the name in it)',
    ]);
  });

  it('a cycle is a problem naming the chain; a missing file is a problem at the include', async () => {
    const cyc = await load({
      'pb.yaml': ['version: 1', 'hosts: { a: local }', 'steps:', '  - include: x.yaml'].join('\n'),
      'x.yaml': 'steps:\n  - include: y.yaml\n',
      'y.yaml': 'steps:\n  - call: ping\n  - include: x.yaml\n',
    });
    expect(cyc.text).toEqual([
      expect.stringMatching(/^y\.yaml:3:14: include cycle: .*x\.yaml -> .*y\.yaml -> .*x\.yaml; a file cannot include itself/),
    ]);
    const missing = await load({
      'pb.yaml': ['version: 1', 'hosts: { a: local }', 'steps:', '  - include: nope.yaml', '    nme: x'].join('\n'),
    });
    expect(missing.text).toEqual([
      expect.stringMatching(/^pb\.yaml:4:14: included file .*nope\.yaml does not exist$/),
      expect.stringMatching(/^pb\.yaml:5:5: unknown key 'nme'/),
    ]);
  });
});
