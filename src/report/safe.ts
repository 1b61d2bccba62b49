import { mapStrings } from '../lang/json-map.js';

/** Reporters never throw into the executor: a reporter's own failure is said on stderr. */
export function reportFailure(stderr: NodeJS.WritableStream, who: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  try {
    stderr.write(`chopsticks: ${who} failed: ${escapeControls(msg)}\n`);
  } catch {
    // stderr itself is gone; nothing left to tell.
  }
}

/**
 * Characters a host could use to take over the terminal or to make its text look like ours:
 * C0 controls (ESC starts every cursor, title and clear-screen sequence; CR overwrites a line),
 * DEL, C1 controls (U+009B is a one-character CSI for some terminals) and the bidirectional
 * overrides that reorder what is shown. Newline and tab are left to the caller.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text that came from a host (stderr, values, error messages), made safe to print: every
 * character of UNSAFE is shown as an escape (`\x1b`, `\r`, `\u202e`), so a host can neither
 * retitle nor clear the terminal nor forge a line; newlines and tabs stay as they are.
 */
export function escapeControls(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, escapeChar);
}

/**
 * A report with every string (keys too) made safe by escapeControls: what `chopsticks report`
 * renders reaches a terminal (`report --format markdown`) or a page as it is.
 */
export function escapeDeep<T>(v: T): T {
  return mapStrings(v, escapeControls);
}

/** Same as escapeControls, and on one line: newlines become `\n`, tabs a space. */
export function escapeOneLine(text: string): string {
  return escapeControls(text).replace(/\n/g, '\\n').replace(/\t/g, ' ');
}

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\r') return '\\r';
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
