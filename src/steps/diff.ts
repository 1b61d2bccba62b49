/**
 * `--diff`: a unified diff of a file's text content before and after a step (docs/language.md#diff),
 * shared by template, sync, file and line. Text up to 64 KiB per side is diffed line by line
 * (the `diff` package); a bigger file shows sizes and sha1s; binary content shows
 * "Binary files differ". `null` content means the file does not exist.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { HostSession } from '../transports/session.js';
import { modeString } from './paths.js';

export const DIFF_LIMIT = 64 * 1024;

/** A file's content; `null` when it does not exist; size and sha1 only for a big remote file. */
export type Content = Buffer | string | null | { size: number; sha1sum: string };

type Side = Buffer | null | { size: number; sha1sum: string };

function bytes(c: Content): Side {
  return c === null ? null : typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
}

const isBig = (x: Side): x is { size: number; sha1sum: string } => x !== null && !Buffer.isBuffer(x);

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Binary as git decides it: a NUL byte in the first 8000 bytes, or text that is not UTF-8. */
export function isBinary(b: Buffer): boolean {
  const head = b.subarray(0, 8000);
  if (head.includes(0)) return true;
  return !isUtf8(b);
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The unified diff of `path` from `before` to `after` ('' when the contents are equal). */
export function unifiedDiff(path: string, before: Content, after: Content): string {
  const a = bytes(before);
  const b = bytes(after);
  const summary = (x: Side) => (x === null ? null : isBig(x) ? x : { size: x.length, sha1sum: sha1(x) });
  const sa = summary(a);
  const sb = summary(b);
  if (sa && sa.sha1sum === sb?.sha1sum) return '';
  if (a === null && b === null) return '';
  const from = a === null ? '/dev/null' : `a${path.startsWith('/') ? '' : '/'}${path}`;
  const to = b === null ? '/dev/null' : `b${path.startsWith('/') ? '' : '/'}${path}`;
  if ((sa && sa.size > DIFF_LIMIT) || (sb && sb.size > DIFF_LIMIT) || isBig(a) || isBig(b)) {
    const side = (x: { size: number; sha1sum: string } | null) => (x === null ? 'absent' : `${x.size} bytes, sha1 ${x.sha1sum}`);
    return `--- ${from}\n+++ ${to}\nfile larger than 64 KiB, not diffed: before ${side(sa)}; after ${side(sb)}\n`;
  }
  if ((a && isBinary(a)) || (b && isBinary(b))) return `Binary files ${from} and ${to} differ\n`;
  const text = (x: Side) => (x === null || isBig(x) ? '' : x.toString('utf8'));
  // Loaded on first use: diffs are asked for with --diff only.
  const { createTwoFilesPatch } = createRequire(import.meta.url)('diff') as typeof import('diff');
  return createTwoFilesPatch(from, to, text(a), text(b), undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line, i) => !(i === 0 && line.startsWith('=')))
    .join('\n');
}

/**
 * The current content of a remote file for a diff: null when missing (or not a regular file);
 * a file over the diff limit comes back as its size and sha1 only, so we never
 * read more than 64 KiB over the wire.
 */
export async function remoteContent(session: HostSession, path: string, opts: { become?: string; signal?: AbortSignal }): Promise<Content> {
  return (await remoteFile(session, path, opts)).content;
}

/** remoteContent, and the file's mode ("0644"; null when there is no regular file). */
export async function remoteFile(
  session: HostSession,
  path: string,
  opts: { become?: string; signal?: AbortSignal },
): Promise<{ content: Content; mode: string | null }> {
  const st = await session.stat(path, { ...opts, withSha1: false });
  if (!st.exists || st.type !== 'file') return { content: null, mode: null };
  if ((st.size ?? 0) > DIFF_LIMIT) {
    const big = await session.stat(path, { ...opts, withSha1: true });
    return { content: { size: big.size ?? 0, sha1sum: big.sha1sum ?? '' }, mode: st.mode };
  }
  // base64 keeps binary bytes intact through the session's text stdout.
  const r = await session.run(['base64', '--', path], { ...opts, maxStdout: DIFF_LIMIT * 2 });
  return { content: r.rc === 0 ? Buffer.from(r.stdout.replace(/\s+/g, ''), 'base64') : null, mode: st.mode };
}

/** A line of a diff for a file whose mode changes (a mode change has no text diff); '' otherwise. */
export function modeDiff(path: string, before: string | number | null | undefined, after: number): string {
  if (before === null || before === undefined) return '';
  const from = typeof before === 'number' ? before : parseInt(before, 8);
  return from === after ? '' : `mode of ${path}: ${modeString(from)} → ${modeString(after)}\n`;
}
