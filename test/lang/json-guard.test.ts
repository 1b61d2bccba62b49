import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonValue, parseJsonLimited } from '../../src/lang/json-guard.js';

function rejects(v: unknown, limits?: { maxBytes?: number; maxDepth?: number }): string {
  const r = checkJsonValue(v, limits);
  if (r.ok) throw new Error(`expected rejection, got ${JSON.stringify(r.value)}`);
  return r.message;
}

/** Reference for the key rule: fast-check deliberately generates keys such as __proto__. */
function hasForbiddenKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasForbiddenKey);
  if (v === null || typeof v !== 'object') return false;
  return Object.keys(v).some((k) => {
    const child = (v as Record<string, unknown>)[k];
    if (k === '__proto__') return true;
    if (k === 'constructor' && child !== null && typeof child === 'object' && Object.prototype.hasOwnProperty.call(child, 'prototype'))
      return true;
    return hasForbiddenKey(child);
  });
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('checkJsonValue', () => {
  it('accepts JSON values and returns a fresh copy with the serialized size', () => {
    const input = { a: [1, 'two', null, true, { b: -0.5 }], 'odd key': 'é€😀', empty: {}, list: [] };
    const r = checkJsonValue(input);
    expect(r).toEqual({ ok: true, value: input, bytes: Buffer.byteLength(JSON.stringify(input)) });
    if (r.ok) {
      expect(r.value).not.toBe(input);
      expect((r.value as Record<string, unknown>).a).not.toBe(input.a);
    }
    expect(checkJsonValue(Object.assign(Object.create(null), { x: 1 }))).toMatchObject({ ok: true, value: { x: 1 } });
    expect(checkJsonValue('pong')).toEqual({ ok: true, value: 'pong', bytes: 6 });
    const shared = { s: 1 };
    expect(checkJsonValue([shared, shared]).ok).toBe(true); // shared, not cyclic
  });

  it.each<[string, unknown, string]>([
    ['undefined', { a: undefined }, '$.a: undefined is not JSON'],
    ['NaN', { a: [0, 1, 2, { b: NaN }] }, '$.a[3].b: NaN is not JSON'],
    ['Infinity', [Infinity], '$[0]: Infinity is not JSON'],
    ['-Infinity', -Infinity, '$: -Infinity is not JSON'],
    ['BigInt', { n: 10n }, '$.n: a BigInt (10n) is not JSON'],
    ['function', { f: () => 1 }, '$.f: a function is not JSON'],
    ['symbol', [Symbol('x')], '$[0]: a symbol is not JSON'],
    ['symbol key', { [Symbol('k')]: 1 }, '$: a symbol key is not JSON'],
    ['Date', { when: new Date(0) }, '$.when: a Date is not JSON'],
    ['Map', new Map(), '$: a Map is not JSON'],
    ['Buffer', { 'x y': Buffer.from('hi') }, '$["x y"]: a Buffer is not JSON'],
    // eslint-disable-next-line @typescript-eslint/no-extraneous-class -- an instance of a class of our own is the hostile input
    ['class instance', { c: new (class Thing {})() }, '$.c: a Thing is not JSON'],
    ['boxed string', [new String('s')], '$[0]: a String is not JSON'],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the hostile input
    ['hole', [1, , 3], '$[1]: a hole in an array is not JSON'],
    ['__proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":1}}}'), "$.a.__proto__: a '__proto__' key is not allowed"],
    [
      'constructor.prototype',
      JSON.parse('{"constructor":{"prototype":{"x":1}}}'),
      "$.constructor: a 'constructor' key holding 'prototype'",
    ],
    ['getter', Object.defineProperty({}, 'g', { get: () => 1, enumerable: true }), '$.g: a getter/setter property is not JSON'],
  ])('rejects %s', (_name, value, message) => {
    expect(rejects(value)).toContain(message);
  });

  it('allows a constructor key that does not hold prototype', () => {
    expect(checkJsonValue({ constructor: 'x', c: { constructor: { name: 'y' } } }).ok).toBe(true);
  });

  it('rejects cycles', () => {
    const a: Record<string, unknown> = { b: [] };
    (a.b as unknown[]).push(a);
    expect(rejects(a)).toBe('$.b[0]: a cycle (the value contains itself) is not JSON');
  });

  it('limits depth (512 by default)', () => {
    expect(checkJsonValue(nested(512)).ok).toBe(true);
    expect(rejects(nested(513))).toContain('nested deeper than 512 levels');
    expect(rejects(nested(100_000))).toContain('nested deeper than 512');
    expect(rejects(nested(4), { maxDepth: 3 })).toContain('nested deeper than 3');
  });

  it('limits the serialized size, stopping early on shared blow-ups', () => {
    expect(checkJsonValue('x'.repeat(1048574)).ok).toBe(true);
    expect(rejects('x'.repeat(1048575))).toContain('larger than the limit of 1048576 bytes (1 MiB)');
    expect(rejects({ a: 'xxxx' }, { maxBytes: 10 })).toContain('larger than the limit of 10 bytes');
    // 2^60 leaves by sharing: must stop at the limit, not walk them all.
    let v: unknown = 'leaf';
    for (let i = 0; i < 60; i++) v = [v, v];
    expect(rejects(v)).toContain('larger than the limit');
  });

  it('counts bytes exactly as JSON.stringify writes them', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = checkJsonValue(v);
        expect(r.ok).toBe(!hasForbiddenKey(v));
        if (r.ok) {
          expect(r.bytes).toBe(Buffer.byteLength(JSON.stringify(v)));
          expect(JSON.stringify(r.value)).toBe(JSON.stringify(v));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseJsonLimited', () => {
  it('parses JSON and returns plain data', () => {
    expect(parseJsonLimited('{"a":[1,2,{"b":"}]["}],"c":"\\"["}')).toMatchObject({
      ok: true,
      value: { a: [1, 2, { b: '}][' }], c: '"[' },
    });
  });
  it('reports invalid JSON', () => {
    const r = parseJsonLimited('{"a":');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^invalid JSON: /);
  });
  it('checks depth before parsing, so a million brackets cannot blow the stack', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(parseJsonLimited(deep, { maxBytes: 10_000_000 })).toEqual({
      ok: false,
      message: 'JSON nested deeper than 512 levels (at offset 512)',
    });
    expect(parseJsonLimited('['.repeat(512) + ']'.repeat(512)).ok).toBe(true);
    // brackets inside strings do not count
    expect(parseJsonLimited(JSON.stringify('['.repeat(5000))).ok).toBe(true);
  });
  it('checks size before parsing', () => {
    const r = parseJsonLimited(JSON.stringify('é'.repeat(600_000)));
    expect(r).toEqual({ ok: false, message: '$: JSON text of 1200002 bytes is larger than the limit of 1048576 bytes (1 MiB)' });
    expect(parseJsonLimited('[1, 2, 3]', { maxBytes: 8 }).ok).toBe(false);
    expect(parseJsonLimited('[1,2,3]', { maxBytes: 7 }).ok).toBe(true);
  });
  it('rejects prototype-polluting keys and never pollutes', () => {
    const r = parseJsonLimited('{"x":[{"__proto__":{"isAdmin":true}}]}');
    expect(r).toEqual({ ok: false, message: "$.x[0].__proto__: a '__proto__' key is not allowed in results" });
    expect(parseJsonLimited('{"constructor":{"prototype":{"isAdmin":true}}}').ok).toBe(false);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
  it('round-trips any JSON text within limits', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const r = parseJsonLimited(text);
        expect(r.ok).toBe(!hasForbiddenKey(JSON.parse(text)));
        if (r.ok) expect(JSON.stringify(r.value)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
