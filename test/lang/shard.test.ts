import { describe, expect, it } from 'vitest';
import { fnv1a32, hostsInShard, parseShard, shardOfHost } from '../../src/lang/shard.js';

describe('shard assignment (FNV-1a 32-bit of the UTF-8 name, mod N)', () => {
  it('matches the published FNV-1a test vectors', () => {
    // From the FNV reference test suite (Fowler/Noll/Vo, "FNV-1a 32 bit").
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    // 'é' is two bytes in UTF-8 (c3 a9): same as hashing those bytes one by one.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(h);
  });

  it('puts every host in exactly one shard, whatever other hosts exist', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `web${String(i).padStart(4, '0')}`);
    for (const n of [1, 2, 3, 7, 16]) {
      const shards = Array.from({ length: n }, (_, index) => hostsInShard(names, { index, count: n }));
      expect(shards.flat().sort()).toEqual([...names].sort());
      // Stable: a host's shard does not depend on the rest of the fleet.
      for (const [i, s] of shards.entries()) for (const h of s.slice(0, 20)) expect(hostsInShard([h], { index: i, count: n })).toEqual([h]);
      // Roughly even for a range of names (each shard within 25% of the mean).
      for (const s of shards) expect(Math.abs(s.length - 1000 / n)).toBeLessThan((1000 / n) * 0.25 + 2);
    }
    expect(shardOfHost('web0001', 1)).toBe(0);
  });

  it('keeps definition order within a shard', () => {
    const names = ['z', 'a', 'm', 'b', 'y', 'c'];
    const s = hostsInShard(names, { index: 0, count: 2 });
    expect(s).toEqual(names.filter((n) => s.includes(n)));
  });

  it('parses I/N and refuses the rest with a clear message', () => {
    expect(parseShard('0/3')).toEqual({ ok: true, shard: { index: 0, count: 3 } });
    expect(parseShard('2/3')).toEqual({ ok: true, shard: { index: 2, count: 3 } });
    expect(parseShard('0/1')).toEqual({ ok: true, shard: { index: 0, count: 1 } });
    const bad = (t: string) => {
      const r = parseShard(t);
      expect(r.ok, t).toBe(false);
      return r.ok ? '' : r.message;
    };
    expect(bad('3/3')).toMatch(/I must be less than N.*0 to 2/);
    expect(bad('5/3')).toMatch(/less than N/);
    expect(bad('0/0')).toMatch(/at least 1/);
    expect(bad('a/b')).toMatch(/takes I\/N/);
    expect(bad('1')).toMatch(/takes I\/N/);
    expect(bad('-1/3')).toMatch(/takes I\/N/);
    expect(bad('1.5/3')).toMatch(/takes I\/N/);
    expect(bad('')).toMatch(/takes I\/N/);
  });
});
