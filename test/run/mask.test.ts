/** Masking secrets in everything a run shows (docs/language.md#secrets). */
import { describe, expect, it } from 'vitest';
import { makeMasker } from '../../src/run/secrets.js';

describe('makeMasker', () => {
  it('masks strings and keys, and a number whose text holds a secret (a host printing it as JSON)', () => {
    const mask = makeMasker(['987654321', 's3cret']);
    expect(mask({ n: 987654321, s: 'x s3cret y', ['k-s3cret']: 1, rc: 0, list: [987654321, 2] })).toEqual({
      n: '***',
      s: 'x *** y',
      ['k-***']: 1,
      rc: 0,
      list: ['***', 2],
    });
    expect(makeMasker([])({ n: 1 })).toEqual({ n: 1 });
  });
});
