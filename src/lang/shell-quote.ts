/**
 * POSIX shell quoting. Every value that reaches a remote shell (the session shell, the
 * ssh remote command line) goes through here, so a playbook value can never become code.
 */
import { HostError } from '../errors.js';

/**
 * Single-quote `s` for any POSIX sh. Inside single quotes every byte is literal except
 * the quote itself, which is written as `'\''`. NUL cannot be carried by a C string
 * (argv, environment), so it is refused rather than silently truncated.
 */
export function shQuote(s: string): string {
  if (s.includes('\0')) {
    throw new HostError('failed', `cannot pass a NUL byte in a command argument: ${JSON.stringify(s.slice(0, 60))}`);
  }
  // `=` is left out: an unquoted first word `A=b` would be an assignment, not a command.
  if (s !== '' && /^[A-Za-z0-9_@%+:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Join argv into one shell command line that re-splits into exactly these words. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}
