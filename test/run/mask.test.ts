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

describe('diffs that show a secret', () => {
  it('mask it, and the removed lines of the change that adds it: the value it replaced is in no list', () => {
    const mask = makeMasker(['n3w-VAL']);
    const diff =
      '--- a/app.conf\n+++ b/app.conf\n@@ -1,4 +1,4 @@\n user=app\n-password=old-VAL\n+password=n3w-VAL\n host=x\n-port=1\n+port=2\n';
    const masked = '--- a/app.conf\n+++ b/app.conf\n@@ -1,4 +1,4 @@\n user=app\n-***\n+password=***\n host=x\n-port=1\n+port=2\n';
    expect(mask({ changed: true, diff })).toEqual({ changed: true, diff: masked });
    const other = '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n';
    expect(mask([{ diff }, { diff: other }])).toEqual([{ diff: masked }, { diff: other }]);
    // Several files in one diff (sync): their headers are not changes.
    expect(mask({ diff: `${other}${diff}` })).toEqual({ diff: `${other}${masked}` });
  });
});
