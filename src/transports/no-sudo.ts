/**
 * `become` on a host without sudo. The command line then fails in the shell (`sh: exec: sudo:
 * not found`, rc 127) and a transfer's spawn fails before its script runs, and either reads as
 * a missing file ("not found") if taken at its word: check mode said "would create", fetch
 * blamed the file. So a failure under become that could be a missing sudo is checked against
 * the host once (`command -v sudo`, without become) and, when sudo is missing, reported as that.
 */
import { HostError } from '../errors.js';

/** Run on the host without become: exits 0 when the shell finds sudo in its PATH. */
export const SUDO_PROBE = ['sh', '-c', 'command -v sudo >/dev/null 2>&1'];

/**
 * A command's end that may be the shell not finding sudo: 127 (not found) or 126 (found but not
 * runnable). Sudo's own failures exit 1, so a working sudo is never checked for.
 */
export function mayLackSudo(rc: number): boolean {
  return rc === 127 || rc === 126;
}

/** A transfer's failure that may be a sudo that could not start (not one the host reported on its own terms). */
export function transferMayLackSudo(e: unknown): boolean {
  if (!(e instanceof HostError)) return false;
  return !['cancelled', 'timeout', 'connection_lost', 'checksum_mismatch', 'permission_denied', 'remote_io'].includes(e.kind);
}

/** `what`: the transfer; a command is left unnamed (the step says which, and a script's text is long). */
export function noSudoError(host: string, user: string, what?: string): HostError {
  return new HostError(
    'failed',
    `${host}: ${what !== undefined ? `${what}: ` : ''}become: ${user} needs sudo on the host, and ${host} has none; install sudo there or drop become ` +
      `(a docker host's own become is the exec user and needs no sudo)`,
  );
}
