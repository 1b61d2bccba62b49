/**
 * Control over local hosts: when, loop, assert, finally, run_once; rules checked by validation
 * with positions; plan shows when/loop/phase.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evalRule, checkRule } from '../../src/lang/rules.js';
import type { Json } from '../../src/model/playbook.js';
import { formatPlanText } from '../../src/compile/index.js';
import { planAsData } from '../../src/compile/plan-json.js';
import { cleanup, plan, problems, run, step, tempDir, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const hosts = `hosts:
  a: { transport: local, vars: { role: web } }
  b: { transport: local, vars: { role: db } }
  c: { transport: local, vars: { role: web } }`;

describe('rules (JSON Logic)', () => {
  const data = { host: 'a', vars: { n: 2 }, hostvars: { role: 'web' }, results: { r: { rc: 0 } } };
  it('evaluates over host, vars, hostvars, results', () => {
    expect(
      evalRule(
        { and: [{ '==': [{ var: 'hostvars.role' }, 'web'] }, { '>': [{ var: 'vars.n' }, 1] }, { '==': [{ var: 'results.r.rc' }, 0] }] },
        data,
      ),
    ).toBe(true);
    expect(evalRule({ '==': [{ var: 'host' }, 'b'] }, data)).toBe(false);
  });
  it('never reads a prototype', () => {
    expect(() => evalRule({ var: 'vars.__proto__' }, data)).toThrow(/cannot be read/);
    expect(checkRule({ '!': { var: 'vars.constructor' } }, { vars: {}, registers: new Set() })[0]!.message).toMatch(/cannot be read/);
  });
  it('checks names before the run', () => {
    const known = { vars: { port: 1 }, registers: new Set(['os']) };
    expect(checkRule({ '==': [{ var: 'vars.prot' }, 1] }, known)[0]).toEqual({
      message: `var "vars.prot": no var 'prot' is defined (did you mean 'port'?)`,
      path: ['==', 0, 'var'],
    });
    expect(checkRule({ var: 'results.later' }, known)[0]!.message).toMatch(/no earlier step has 'register: later'/);
    expect(checkRule({ var: 'item' }, known)[0]!.message).toMatch(/'item' exists only in a step with loop:/);
    expect(checkRule({ var: 'item.x' }, { ...known, item: true })).toEqual([]);
  });
  it('compares as JSON Logic says (plain JavaScript): values of different types are unequal, not an error', () => {
    expect(evalRule({ '==': ['a', 1] }, data)).toBe(false);
    expect(evalRule({ '!=': [{ var: 'host' }, 2] }, data)).toBe(true);
    expect(evalRule({ '<': ['a', 1] }, data)).toBe(false);
    expect(evalRule({ '==': [1, '1'] }, data)).toBe(true);
    expect(evalRule({ '<': [1, { var: 'vars.n' }, 3] }, data)).toBe(true);
    expect(() => evalRule({ '+': ['a', 1] }, data)).toThrow(/arithmetic on a value that is not a number/);
  });
  it('map, filter, reduce, all, none, some: the per-element rule reads the element; a var with a default may be missing', () => {
    const known = { vars: { list: [1, 2, 3] }, registers: new Set<string>() };
    const some: Json = { some: [{ var: 'vars.list' }, { '>': [{ var: '' }, 2] }] };
    const sum: Json = { reduce: [{ var: 'vars.list' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] };
    const fallback: Json = { '==': [{ var: ['vars.nope', 3] }, 3] };
    for (const rule of [some, sum, fallback]) expect(checkRule(rule, known)).toEqual([]);
    const d = { ...data, vars: known.vars };
    expect(evalRule(some, d)).toBe(true);
    expect(evalRule(sum, d)).toBe(6);
    expect(evalRule(fallback, d)).toBe(true);
    // The list itself is still checked, and no element rule reads a prototype.
    expect(checkRule({ some: [{ var: 'vars.lst' }, true] }, known)[0]!.message).toMatch(/no var 'lst'/);
    expect(checkRule({ map: [{ var: 'vars.list' }, { var: '__proto__' }] }, known)[0]!.message).toMatch(/cannot be read/);
  });
});

describe('when', () => {
  it('hosts where it is false are skipped, in none of the outcome sets, and go on', async () => {
    const r = await run(
      dir,
      `version: 1
${hosts}
steps:
  - name: web only
    call: ping
    when: { "==": [{ var: hostvars.role }, web] }
    register: w
  - name: ok set
    call: ping
    on: ok(w)
  - name: everyone
    call: ping
`,
    );
    expect(step(r, 'web only').results.b).toMatchObject({ ok: true, skipped: true, skip_reason: 'when', changed: false });
    expect(values(step(r, 'web only'))).toMatchObject({ a: 'pong', c: 'pong' });
    expect(step(r, 'ok set').targets).toEqual(['a', 'c']);
    expect(step(r, 'everyone').targets).toEqual(['a', 'b', 'c']);
    expect(r.status).toBe('ok');
  });
});

describe('loop', () => {
  it('runs once per item in order; templates see {item} and {item.key}; the value is the list', async () => {
    const r = await run(
      dir,
      `version: 1
vars: { users: [{ name: ann, id: 1 }, { name: bob, id: 2 }] }
hosts: { a: local }
steps:
  - name: each
    call: command
    args: { argv: [echo, "{item.name}:{item.id}"] }
    loop: "{vars.users}"
  - name: literal
    call: command
    args: { argv: [echo, "{item}"] }
    loop: [x, y, z]
    when: { "!=": [{ var: item }, y] }
`,
    );
    expect((values(step(r, 'each')).a as Array<{ stdout: string }>).map((v) => v.stdout)).toEqual(['ann:1\n', 'bob:2\n']);
    const lit = values(step(r, 'literal')).a as Array<{ stdout: string } | null>;
    expect(lit.map((v) => v?.stdout ?? null)).toEqual(['x\n', null, 'z\n']);
  });

  it('put in a loop', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(`${dir}/one.txt`, '1');
    writeFileSync(`${dir}/two.txt`, '2');
    const r = await run(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - put: "{item}.txt"
    to: "${dir}/out/"
    loop: [one, two]
`,
    );
    expect(r.status).toBe('ok');
    expect(readFileSync(`${dir}/out/two.txt`, 'utf8')).toBe('2');
  });

  it('validation: loop on a kind that cannot loop, a var that is not a list, {item} without a loop', async () => {
    const p = await problems(
      dir,
      `version: 1
vars: { one: 1 }
hosts: { a: local }
steps:
  - fetch: /etc/hostname
    loop: [1]
  - call: ping
    loop: "{vars.one}"
  - call: command
    args: { argv: [echo, "{item}"] }
`,
    );
    expect(p[0]).toMatch(/^pb\.yaml:6:\d+: loop: a fetch step cannot loop/);
    expect(p[1]).toMatch(/^pb\.yaml:8:\d+: loop: vars\.one is 1, not a list/);
    expect(p[2]).toMatch(/^pb\.yaml:10:\d+: template \{item\}: \{item\} exists only in a step with loop:/);
  });
});

describe('assert', () => {
  it('hosts where the rule is false fail, kind failed, with the message', async () => {
    const r = await run(
      dir,
      `version: 1
${hosts}
steps:
  - assert: { "==": [{ var: hostvars.role }, web] }
    msg: "{host} is a {hostvars.role} host"
`,
    );
    expect(values(r.steps[0]!)).toEqual({ a: true, b: { error: 'failed', msg: 'b: b is a db host' }, c: true });
    expect(r.status).toBe('failed');
  });
});

describe('finally', () => {
  it('runs after a policy abort, on every host any step targeted (dropped hosts included), reported with phase', async () => {
    const r = await run(
      dir,
      `version: 1
${hosts}
steps:
  - name: b fails
    call: shell
    args: { cmd: "test {host} != b" }
    on: a | b
  - name: abort
    call: shell
    args: { cmd: "false" }
    on: a
    on_failure: abort
  - name: never
    call: ping
finally:
  - name: logs
    call: command
    args: { argv: [echo, "{host}"] }
`,
    );
    expect(r.status).toBe('aborted');
    expect(step(r, 'never').status).toBe('not_run');
    const logs = step(r, 'logs');
    expect(logs.phase).toBe('finally');
    expect(logs.targets).toEqual(['a', 'b']);
    expect(logs.status).toBe('ok');
  });

  it('plan shows the finally phase, when and loop', async () => {
    const p = await plan(
      dir,
      `version: 1
vars: { xs: [1, 2] }
hosts: { a: local }
steps:
  - call: ping
    when: { "==": [{ var: host }, a] }
  - call: command
    args: { argv: [echo, "{item}"] }
    loop: "{vars.xs}"
finally:
  - call: ping
`,
    );
    const text = formatPlanText(p);
    expect(text).toContain('when     {"==":[{"var":"host"},"a"]}');
    expect(text).toContain('loop     [1,2]');
    expect(text).toContain('phase    finally');
    expect(p.steps[2]!.phase).toBe('finally');
    // plan --json says the same: the loop as written and as filled.
    const data = planAsData(p) as { steps: Array<Record<string, unknown>> };
    expect(data.steps[1]).toMatchObject({ loop: '{vars.xs}', loop_filled: [1, 2] });
  });

  it('plan: a finally step targets only hosts some step may run on; surely those of the first step', async () => {
    const p = await plan(
      dir,
      `version: 1
hosts: { a: local, b: local, c: local }
steps:
  - call: ping
    on: a
  - call: ping
    on: a | b
finally:
  - call: ping
`,
    );
    expect(p.steps[2]!.targets).toEqual({ lower: ['a'], upper: ['a', 'b'] });
  });
});

describe('run_once', () => {
  it('runs on the first target only; its value is registered for every target', async () => {
    const r = await run(
      dir,
      `version: 1
${hosts}
steps:
  - name: once
    call: command
    args: { argv: [echo, "{host}"] }
    run_once: true
    register: o
  - name: see
    call: command
    args: { argv: [echo, "{results.o.stdout}"] }
`,
    );
    expect(step(r, 'once').targets).toEqual(['a']);
    expect((values(step(r, 'see')) as Record<string, { stdout: string }>).c!.stdout).toBe('a\n\n');
  });
});

describe('run_once that fails', () => {
  const pb = (extra: string, policy = '') => `version: 1
${hosts}
${extra}
steps:
  - name: migrate
    call: command
    args: { argv: [sh, -c, "exit 3"] }
    run_once: true
    register: m${policy}
  - name: deploy
    call: command
    args: { argv: [echo, "{host}"] }
`;
  for (const strategy of ['linear', 'free'])
    it(`fails every target, as Ansible's does (${strategy})`, async () => {
      const r = await run(dir, pb(`strategy: ${strategy}`));
      expect(r.hosts).toEqual({ a: 'failed', b: 'failed', c: 'failed' });
      expect(step(r, 'deploy').targets).toEqual([]);
      expect(r.status).toBe('failed');
    });
  it('keeps the others under on_failure: ignore', async () => {
    const r = await run(dir, pb('', '\n    on_failure: ignore'));
    expect(step(r, 'deploy').targets).toEqual(['a', 'b', 'c']);
  });
});
