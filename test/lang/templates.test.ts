import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTemplate, isTemplate, parseTemplate, renderArgs, renderTemplate, type TemplateEnv } from '../../src/lang/templates.js';
import type { Json } from '../../src/model/playbook.js';

const env: TemplateEnv = {
  host: 'web1',
  vars: { release: '2.4.1', port: 8080, flags: ['a', 'b'], cfg: { tls: true, name: 'x' }, none: null },
  hostvars: { rack: 'r7', weight: 3 },
  results: {
    os: { id: 'debian', versions: [{ major: 12 }, { major: 11 }] },
    up: 42,
  },
};

function render(text: string): unknown {
  const r = renderTemplate(text, env);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function renderFail(text: string): string {
  const r = renderTemplate(text, env);
  if (r.ok) throw new Error(`expected failure, got ${JSON.stringify(r.value)}`);
  return r.message;
}

describe('parseTemplate', () => {
  it('splits text and dotted references with offsets', () => {
    expect(parseTemplate('dist/app-{vars.release}.tgz')).toEqual({
      ok: true,
      parts: [
        { type: 'text', text: 'dist/app-' },
        { type: 'ref', path: ['vars', 'release'], offset: 9 },
        { type: 'text', text: '.tgz' },
      ],
    });
    expect(parseTemplate('{results.os.versions.0.major}')).toEqual({
      ok: true,
      parts: [{ type: 'ref', path: ['results', 'os', 'versions', '0', 'major'], offset: 0 }],
    });
  });
  it('turns {{ and }} into literal braces', () => {
    expect(parseTemplate("awk '{{print $1}}'")).toEqual({ ok: true, parts: [{ type: 'text', text: "awk '{print $1}'" }] });
    expect(parseTemplate('{{{host}}}')).toEqual({
      ok: true,
      parts: [
        { type: 'text', text: '{' },
        { type: 'ref', path: ['host'], offset: 2 },
        { type: 'text', text: '}' },
      ],
    });
  });
  it.each([
    ['a } b', "single '}'", 2],
    ['a { b', "unclosed '{'", 2],
    ['{host', "unclosed '{'", 0],
    ['x{a{b}}', "unclosed '{'", 1],
    ['{}', 'empty placeholder', 0],
    ['ab{vars..x}', 'invalid placeholder', 2],
    ['{vars.a b}', 'invalid placeholder', 0],
    ['{vars.x:>10}', 'invalid placeholder', 0],
    ["awk '{print $1}'", 'invalid placeholder', 5],
  ])('%j fails: %s at %i', (text, message, offset) => {
    const r = parseTemplate(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(message);
      expect(r.offset).toBe(offset);
    }
  });
  it('isTemplate', () => {
    expect(isTemplate('plain')).toBe(false);
    expect(isTemplate('{{literal}}')).toBe(false);
    expect(isTemplate('{host}')).toBe(true);
    expect(isTemplate('broken }')).toBe(true);
  });
  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', 'a', '.', 'host', 'vars', ' ', '0') }), (text) => {
        const r = parseTemplate(text);
        if (!r.ok) expect(r.offset).toBeLessThan(text.length);
      }),
    );
  });
  it('{{ }} escaping round-trips any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = text.replace(/\{/g, '{{').replace(/\}/g, '}}');
        expect(renderTemplate(escaped, env)).toEqual({ ok: true, value: text });
      }),
    );
  });
});

describe('renderTemplate', () => {
  it('a lone placeholder keeps the JSON type', () => {
    expect(render('{vars.port}')).toBe(8080);
    expect(render('{vars.flags}')).toEqual(['a', 'b']);
    expect(render('{vars.cfg.tls}')).toBe(true);
    expect(render('{vars.none}')).toBeNull();
    expect(render('{results.os.versions.1}')).toEqual({ major: 11 });
    expect(render('{host}')).toBe('web1');
    expect(render('{hostvars.weight}')).toBe(3);
  });
  it('mixed text stringifies: strings as-is, others as JSON', () => {
    expect(render('logs/{host}/app-{vars.release}.log')).toBe('logs/web1/app-2.4.1.log');
    expect(render('port={vars.port} tls={vars.cfg.tls} n={vars.none}')).toBe('port=8080 tls=true n=null');
    expect(render('v={results.os.versions.0} f={vars.flags}')).toBe('v={"major":12} f=["a","b"]');
    expect(render(' {vars.port}')).toBe(' 8080');
    expect(render('plain')).toBe('plain');
  });
  it('a lone placeholder returns a copy, not the stored object', () => {
    const v = render('{vars.cfg}') as Record<string, unknown>;
    v.tls = false;
    expect(env.vars.cfg).toEqual({ tls: true, name: 'x' });
  });
  it('fails naming the reference when a path is missing', () => {
    expect(renderFail('{results.os.name}')).toBe("template {results.os.name}: results.os has no key 'name'");
    expect(renderFail('{results.os.versions.5}')).toContain('results.os.versions has 2 item(s); there is no index 5');
    expect(renderFail('{results.os.versions.x}')).toContain("is a list; 'x' is not an index");
    expect(renderFail('{results.up.x}')).toContain("results.up is number; it has no 'x'");
    expect(renderFail('{vars.missing}')).toContain("vars has no key 'missing'");
    expect(renderFail('{nope}')).toContain("unknown name 'nope'");
    expect(renderFail('{host.name}')).toContain("it has no 'name'");
    expect(renderFail('a}')).toContain("single '}'");
    expect(renderTemplate('{host}', { vars: {} })).toEqual({ ok: false, message: 'template {host}: there is no host here' });
  });
  it('never walks the prototype chain', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(renderFail(`{results.os.${key}}`)).toContain(`no key '${key}'`);
      expect(renderFail(`{vars.${key}}`)).toContain(`no key '${key}'`);
    }
    expect(renderFail('{vars.flags.length}')).toContain("'length' is not an index");
    expect(renderFail('{results.os.id.length}')).toContain("results.os.id is string; it has no 'length'");
  });
  it('reads an own __proto__ key as data', () => {
    const results = JSON.parse('{"r": {"__proto__": {"x": 1}}}') as Record<string, Json>;
    expect(renderTemplate('{results.r.__proto__.x}', { vars: {}, results })).toEqual({ ok: true, value: 1 });
    const whole = renderTemplate('{results.r}', { vars: {}, results });
    expect(whole.ok && Object.getPrototypeOf(whole.value)).toBe(Object.prototype);
    expect(whole.ok && Object.keys(whole.value as object)).toEqual(['__proto__']);
  });
});

describe('renderArgs', () => {
  it('renders every string in nested objects and arrays, leaving keys alone', () => {
    const args = { argv: ['echo', '{host}', '{vars.port}'], env: { REL: 'v{vars.release}', '{host}': 1 }, n: 3, b: false, z: null };
    expect(renderArgs(args, env)).toEqual({
      ok: true,
      value: { argv: ['echo', 'web1', 8080], env: { REL: 'v2.4.1', '{host}': 1 }, n: 3, b: false, z: null },
    });
    expect(args.argv[1]).toBe('{host}'); // input untouched
  });
  it('names the failing arg', () => {
    expect(renderArgs({ a: { b: ['x', '{results.os.nope}'] } }, env)).toEqual({
      ok: false,
      message: "template {results.os.nope}: results.os has no key 'nope'",
      path: 'a.b[1]',
    });
  });
  it('keeps a __proto__ arg key as plain data', () => {
    const args = JSON.parse('{"__proto__": {"polluted": "{host}"}}') as Record<string, Json>;
    const r = renderArgs(args, env);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(r.value, '__proto__')?.value).toEqual({ polluted: 'web1' });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});

describe('checkTemplate', () => {
  const known = {
    vars: { release: '1', cfg: { port: 1 }, list: [1] },
    registers: new Set(['os', 'deploy']),
    hostvarNames: new Set(['rack']),
  };
  const check = (t: string) => checkTemplate(t, known);
  it('accepts what can resolve', () => {
    expect(check('{host}/{vars.release}/{vars.cfg.port}/{vars.list.0}/{hostvars.rack}/{results.os.whatever.0}/{vars}')).toEqual([]);
    expect(check('no placeholders {{}}')).toEqual([]);
  });
  it('reports each static problem with its offset', () => {
    expect(check('x {vars.relase} y')).toEqual([
      { message: "template {vars.relase}: no var 'relase' is defined (did you mean 'release'?)", offset: 2 },
    ]);
    expect(check('{vars.cfg.prot}')).toEqual([{ message: "template {vars.cfg.prot}: vars.cfg has no key 'prot'", offset: 0 }]);
    expect(check('{results.dpeloy.rc}')).toEqual([
      { message: "template {results.dpeloy.rc}: no earlier step has 'register: dpeloy' (did you mean 'deploy'?)", offset: 0 },
    ]);
    expect(check('{hostvars.rak}')[0]!.message).toContain("no host defines var 'rak' (did you mean 'rack'?)");
    expect(check('{hots}')[0]!.message).toContain(
      "unknown name 'hots'; use host, vars, hostvars, results or secrets (did you mean 'host'?)",
    );
    expect(check('{host.x}')[0]!.message).toContain("has no 'x'");
    expect(check('{vars.__proto__}')[0]!.message).toContain("no var '__proto__'");
    expect(check('a {vars.x} {results.y}').map((p) => p.offset)).toEqual([2, 11]);
    expect(check('oops }')).toEqual([{ message: "single '}' in template (write '}}' for a literal brace)", offset: 5 }]);
  });
  it('leaves hostvars unchecked when no names are given', () => {
    expect(checkTemplate('{hostvars.anything}', { vars: {}, registers: new Set() })).toEqual([]);
  });
});
