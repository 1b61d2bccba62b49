import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandHostList, expandHostRange, fillHostPlaceholder, foldHostNames, MAX_RANGE_NAMES } from '../../src/lang/hostlist.js';
import { formatDuration, parseDuration, parseSize } from '../../src/lang/durations.js';

function expand(folded: string): string[] {
  const r = expandHostList(folded);
  if (!r.ok) throw new Error(r.message);
  return r.names;
}

describe('foldHostNames', () => {
  it.each<[string[], string]>([
    [[], ''],
    [['db'], 'db'],
    [['web01'], 'web01'],
    [Array.from({ length: 40 }, (_, i) => `web${String(i + 1).padStart(2, '0')}`), 'web[01-40]'],
    [['web01', 'web02', 'web03', 'db'], 'web[01-03],db'],
    [['web01', 'web02', 'web03', 'web07', 'db1'], 'web[01-03,07],db1'],
    [['db1', 'web2', 'web1', 'db2', 'cache'], 'db[1-2],web[1-2],cache'],
    [['web9', 'web10', 'web11'], 'web[9-11]'],
    [['web08', 'web09', 'web10'], 'web[08-10]'],
    [['web8', 'web09'], 'web[8,09]'],
    [['web1', 'web01'], 'web[1,01]'],
    [['a1.example.com', 'a2.example.com', 'a2'], 'a[1-2].example.com,a2'],
    [['n1-eth0', 'n1-eth1', 'n2-eth0'], 'n1-eth[0-1],n2-eth0'],
    [['web1', 'web1', 'web2'], 'web[1-2]'],
    [['x99999999999999999999', 'x100000000000000000000'], 'x[99999999999999999999-100000000000000000000]'],
  ])('%j → %s', (names, want) => {
    expect(foldHostNames(names)).toBe(want);
  });

  it('expands back to the same set of names', () => {
    const name = fc
      .tuple(
        fc.constantFrom('web', 'db', 'n1-x', ''),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom(0, 2, 3),
        fc.constantFrom('', '.lan'),
      )
      .map(([p, n, w, s]) => `${p || 'h'}${String(n).padStart(w, '0')}${s}`);
    fc.assert(
      fc.property(fc.array(fc.oneof(name, fc.constantFrom('cache', 'db')), { maxLength: 40 }), (names) => {
        const folded = foldHostNames(names);
        expect(new Set(expand(folded))).toEqual(new Set(names));
        expect(expand(folded)).toHaveLength(new Set(names).size);
      }),
      { numRuns: 300 },
    );
  });

  it('folding what a folded list expands to gives the same text (fold output is canonical)', () => {
    const name = fc
      .tuple(
        fc.constantFrom('web', 'db', 'rack1-n', 'h'),
        fc.integer({ min: 0, max: 120 }),
        fc.constantFrom(0, 2, 3),
        fc.constantFrom('', '.lan'),
      )
      .map(([p, n, w, s]) => `${p}${String(n).padStart(w, '0')}${s}`);
    fc.assert(
      fc.property(fc.array(fc.oneof(name, fc.constantFrom('cache', 'db')), { maxLength: 60 }), (names) => {
        const folded = foldHostNames(names);
        expect(foldHostNames(expand(folded))).toBe(folded);
      }),
      { numRuns: 300 },
    );
  });
});

describe('expandHostRange', () => {
  it.each<[string, string[]]>([
    ['web1', ['web1']],
    ['web[1-3]', ['web1', 'web2', 'web3']],
    ['web[01-03]', ['web01', 'web02', 'web03']],
    ['node[1-3,7]', ['node1', 'node2', 'node3', 'node7']],
    ['web[08-10].lan', ['web08.lan', 'web09.lan', 'web10.lan']],
    ['rack[1-2]-db[1-2]', ['rack1-db1', 'rack1-db2', 'rack2-db1', 'rack2-db2']],
    ['[1-2]x', ['1x', '2x']],
  ])('%s', (text, want) => {
    expect(expandHostRange(text)).toEqual({ ok: true, names: want });
  });

  it.each<[string, RegExp, number]>([
    ['web[3-1]', /goes down; write 1-3/, 4],
    ['web[1-3', /not closed/, 3],
    ['web[a-c]', /not a number/, 4],
    ['web[1,,2]', /not a number/, 6],
    ['web[]', /not a number/, 4],
    ['web[1-1000000000]', new RegExp(`more than ${MAX_RANGE_NAMES}`), 4],
    ['a[1-1000]b[1-1000]', new RegExp(`more than ${MAX_RANGE_NAMES}`), 11],
  ])('%s is refused', (text, msg, offset) => {
    const r = expandHostRange(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(msg);
      expect(r.offset).toBe(offset);
    }
  });

  it('any range expands to names that fold to a range expanding to the same names', () => {
    const item = fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5 }), fc.constantFrom(0, 2, 3));
    fc.assert(
      fc.property(
        fc.constantFrom('web', 'db-', 'n'),
        fc.array(item, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', '.lan'),
        (p, items, s) => {
          const body = items.map(([a, len, w]) => `${String(a).padStart(w, '0')}-${String(a + len).padStart(w, '0')}`).join(',');
          const r = expandHostRange(`${p}[${body}]${s}`);
          if (!r.ok) throw new Error(r.message);
          expect(new Set(expand(foldHostNames(r.names)))).toEqual(new Set(r.names));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('{host} in string fields becomes the name; {{host}} stays literal', () => {
    expect(fillHostPlaceholder({ host: '{host}.example.com', port: 22, vars: { a: ['{host}', '{{host}}'] } }, 'web01')).toEqual({
      host: 'web01.example.com',
      port: 22,
      vars: { a: ['web01', '{{host}}'] },
    });
  });
});

describe('parseDuration', () => {
  it.each<[string | number, number | undefined]>([
    ['60s', 60_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500],
    ['90', 90_000],
    [' 5s ', 5000],
    [60, 60_000],
    [0.25, 250],
    [0, 0],
    ['0s', 0],
    ['', undefined],
    ['s', undefined],
    ['5', 5000],
    ['-5s', undefined],
    ['5 s', undefined],
    ['5x', undefined],
    ['1m 30s', undefined],
    ['abc', undefined],
    [-1, undefined],
    [NaN, undefined],
    [Infinity, undefined],
    ['9'.repeat(400) + 's', undefined],
  ])('%j → %s', (input, want) => {
    expect(parseDuration(input)).toBe(want);
  });

  it('formatDuration output parses back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('parseSize', () => {
  it.each([
    [1048576, 1048576],
    ['100', 100],
    ['512KiB', 524288],
    ['4 MiB', 4194304],
    ['2MB', 2000000],
    ['1GiB', 1073741824],
  ])('%s → %s bytes', (input, want) => {
    expect(parseSize(input)).toBe(want);
  });
  it.each([0, -1, 1.5, '', '1 TB', 'MiB', '1.5MiB', '10 mib'])('%s is not a size', (input) => {
    expect(parseSize(input)).toBeUndefined();
  });
});
