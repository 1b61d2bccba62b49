/**
 * What a host's output means: remote stderr mapped to an error kind a user can act on, and
 * output bytes decoded as strict UTF-8 (a result is text; bytes are never replaced silently).
 */
import { HostError, WRITE_ERROR_TEXT } from '../errors.js';

/** Maps remote stderr text to an error kind (docs/language.md#errors-on-hosts) with a message a user can act on. */
export function remoteError(host: string, what: string, text: string, become?: string): HostError {
  const t = text.trim();
  const tail = truncate(t.split('\n').slice(-3).join(' / '), 300);
  if (/sudo: (a )?password is required|sudo: a terminal is required/.test(t)) {
    return new HostError(
      'permission_denied',
      `${host}: sudo requires a password for ${become ?? 'this user'}; configure NOPASSWD or drop become`,
      t,
    );
  }
  if (/No such file|not found|does not exist/i.test(t)) return new HostError('not_found', `${host}: ${what}: ${tail}`, t);
  if (/Permission denied|Operation not permitted|not permitted/i.test(t)) {
    return new HostError('permission_denied', `${host}: ${what}: ${tail}`, t);
  }
  if (WRITE_ERROR_TEXT.test(t)) {
    return new HostError('remote_io', `${host}: ${what}: ${tail}`, t);
  }
  return new HostError('failed', `${host}: ${what} failed${tail ? `: ${tail}` : ''}`, t || null);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text, or where the first byte that is not UTF-8 is. */
export function strictUtf8(buf: Buffer): string | { at: number } {
  try {
    return utf8.decode(buf);
  } catch {
    // Rare path: find the offset for the message.
    for (let i = 0, n: number; i < buf.length; i += n) {
      n = utf8SeqLength(buf, i);
      if (n === 0) return { at: i };
    }
    return { at: 0 };
  }
}

function utf8SeqLength(b: Buffer, i: number): number {
  const c = b[i]!;
  const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > b.length) return 0;
  for (let k = 1; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  try {
    utf8.decode(b.subarray(i, i + len));
  } catch {
    return 0;
  }
  return len;
}

/** A tail cut from a longer text may start inside a character: skip its continuation bytes. */
export function charBoundary(buf: Buffer): Buffer {
  let i = 0;
  while (i < 3 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i++;
  return buf.subarray(i);
}

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
