import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { DIFF_LIMIT, unifiedDiff } from '../../src/steps/diff.js';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('unifiedDiff', () => {
  it('a unified diff of text, git-style headers', () => {
    const d = unifiedDiff('/etc/app.conf', Buffer.from('port = 80\nhost = a\n'), Buffer.from('port = 8080\nhost = a\n'));
    expect(d).toBe('--- a/etc/app.conf\n+++ b/etc/app.conf\n@@ -1,2 +1,2 @@\n-port = 80\n+port = 8080\n host = a\n');
  });

  it('a new file diffs from /dev/null; the same content is no diff', () => {
    expect(unifiedDiff('/x', null, Buffer.from('hi\n'))).toBe('--- /dev/null\n+++ b/x\n@@ -0,0 +1,1 @@\n+hi\n');
    expect(unifiedDiff('/x', Buffer.from('same'), Buffer.from('same'))).toBe('');
  });

  it('binary files differ; over 64 KiB: sizes and sha1s', () => {
    expect(unifiedDiff('/bin/x', Buffer.from([1, 0, 2]), Buffer.from('text'))).toBe('Binary files a/bin/x and b/bin/x differ\n');
    expect(unifiedDiff('/x', Buffer.from([0xff, 0xfe]), Buffer.from([0xff]))).toMatch(/^Binary files/);
    const big = Buffer.alloc(DIFF_LIMIT + 1, 'a');
    const d = unifiedDiff('/big', Buffer.from('small'), big);
    expect(d).toContain(`after ${big.length} bytes, sha1 ${sha1(big)}`);
    expect(d).toContain(`before 5 bytes, sha1 ${sha1(Buffer.from('small'))}`);
  });
});
