/**
 * `--diff`: what a step would change in a file, as a unified diff of text (docs/cli.md#diffs).
 * Shared by every kind that writes files (put, and template / line / file / sync).
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';

/** Larger files are summed up by size and sha1, not diffed. */
export const DIFF_MAX_BYTES = 64 * 1024;

/**
 * A unified diff from `before` (the host's file; null when it does not exist) to `after`.
 * Over DIFF_MAX_BYTES: sizes and sha1s; not UTF-8 text (or a NUL byte): "Binary files ... differ".
 * Empty when they are the same.
 */
export function unifiedDiff(path: string, before: Buffer | null, after: Buffer): string {
  if (before !== null && before.equals(after)) return '';
  if ((before?.length ?? 0) > DIFF_MAX_BYTES || after.length > DIFF_MAX_BYTES) {
    return sizeSummary(path, before && fileSum(before), fileSum(after));
  }
  const oldText = before === null ? '' : asText(before);
  const newText = asText(after);
  if (oldText === undefined || newText === undefined) return `Binary files ${before === null ? '/dev/null' : `a${slash(path)}`} and b${slash(path)} differ\n`;
  const patch = createTwoFilesPatch(before === null ? '/dev/null' : `a${slash(path)}`, `b${slash(path)}`, oldText, newText, '', '', { context: 3 });
  // Drop the `=====` banner line the package puts first; `diff -u` and git start at `---`.
  return patch.replace(/^=+\n/, '');
}

/** For files too big to diff (or known only by size and sha1). */
export function sizeSummary(path: string, before: { size: number; sha1sum: string } | null, after: { size: number; sha1sum: string }): string {
  const was = before === null ? 'does not exist' : `${before.size} bytes, sha1 ${before.sha1sum}`;
  return `${path}: over ${DIFF_MAX_BYTES / 1024} KiB, not diffed\n  host:  ${was}\n  local: ${after.size} bytes, sha1 ${after.sha1sum}\n`;
}

function fileSum(b: Buffer): { size: number; sha1sum: string } {
  return { size: b.length, sha1sum: createHash('sha1').update(b).digest('hex') };
}

function asText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

function slash(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
