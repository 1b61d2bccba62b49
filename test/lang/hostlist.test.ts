import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldHostNames } from '../../src/lang/hostlist.js';
import { formatDuration, parseDuration, parseSize } from '../../src/lang/durations.js';

/** Inverse of folding, for the round-trip property: expands `p[01-03,7]s` lists. */
function expand(folded: string): string[] {
  const out: string[] = [];
  for (const item of folded.match(/[^,[]+(?:\[[^\]]*\][^,]*)?/g) ?? []) {
    const m = /^(.*)\[(.*)\](.*)$/.exec(item);
    if (!m) {
      out.push(item);
      continue;
    }
    const [, prefix, body, suffix] = m as unknown as [string, string, string, string];
    for (const r of body.split(',')) {
      const [a, b = a] = r.split('-') as [string, string?];
      const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
      for (let n = Number(a); n <= Number(b); n++) out.push(`${prefix}${String(n).padStart(width, '0')}${suffix}`);
    }
  }
  return out;
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
      .tuple(fc.constantFrom('web', 'db', 'n1-x', ''), fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, 2, 3), fc.constantFrom('', '.lan'))
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
