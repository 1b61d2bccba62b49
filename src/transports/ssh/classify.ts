/**
 * ssh2 failures → error kinds (docs/language.md#errors-on-hosts). Decided from ssh2's `level`, the socket errno and
 * what our own host key check said, never from a remote exit code.
 */
import { HostError } from '../../errors.js';
import { formatDuration } from '../../lang/durations.js';
import type { HostKeyVerdict } from './known-hosts.js';

export interface ConnectFacts {
  /** Playbook host name (or jump host text) that messages start with. */
  label: string;
  /** `user@host:port`, what a user would check. */
  address: string;
  /** Set when a bastion is in the way, for messages. */
  via?: string;
  hostName: string;
  port: number;
  /** Every known_hosts file read (UserKnownHostsFile may list several); the first is where a key is added. */
  knownHostsFiles: readonly string[];
  knownHostsName: string;
  /**
   * The verdict of our host key check, when the server got that far. `accepted`: the key was
   * let through all the same (a changed key under `host_key_check: off`, already warned about),
   * so a later failure is not the key's.
   */
  hostKey?: { verdict: HostKeyVerdict; fingerprint: string; keyType: string; accepted?: boolean };
  /** Auth methods attempted, in order, and notes on those that could not be attempted. */
  authTried: string[];
  authNotes: string[];
  timeoutMs: number;
}

type Ssh2Error = Error & { level?: string; code?: string | number; reason?: number };

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'EHOSTDOWN',
  'ENETDOWN',
]);

/** Resets before authentication that a retry may cure (sshd's MaxStartups drops them). */
export function isRetryablePreAuth(err: Ssh2Error): boolean {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return true;
  return /Connection lost before handshake|closed before authentication/.test(err.message);
}

function via(f: ConnectFacts): string {
  return f.via ? ` via ${f.via}` : '';
}

export function hostKeyError(f: ConnectFacts): HostError | undefined {
  const hk = f.hostKey;
  if (!hk || hk.accepted) return undefined;
  const presented = `${hk.keyType} ${hk.fingerprint}`;
  switch (hk.verdict.kind) {
    case 'known':
      return undefined;
    case 'unknown':
      return new HostError(
        'hostkey_unknown',
        `${f.label}: host key of ${f.knownHostsName} is not in ${f.knownHostsFiles.join(' or ')} (server offered ${presented}). ` +
          `Check the fingerprint with the host's owner, then add it: ` +
          `ssh-keyscan -p ${f.port} ${f.hostName} >> ${f.knownHostsFiles[0]}, ` +
          `or set host_key_check: accept-new to trust it on first use.`,
      );
    case 'mismatch': {
      const known = hk.verdict.expected
        .map((e) => `${e.keyType} ${e.fingerprint} (${e.file ?? f.knownHostsFiles[0]}:${e.line})`)
        .join(', ');
      const file = hk.verdict.expected[0]?.file ?? f.knownHostsFiles[0];
      return new HostError(
        'hostkey_mismatch',
        `${f.label}: HOST KEY CHANGED for ${f.knownHostsName}: server offered ${presented}, known: ${known}. ` +
          `This can be a man-in-the-middle attack. If the change is expected, remove the old line ` +
          `(ssh-keygen -R '${f.knownHostsName}' -f ${file}) and add the new key.`,
      );
    }
    case 'revoked':
      return new HostError(
        'hostkey_mismatch',
        `${f.label}: host key ${presented} of ${f.knownHostsName} is marked @revoked in ${hk.verdict.file ?? f.knownHostsFiles[0]}:${hk.verdict.line}; refusing to connect.`,
      );
  }
}

export function authError(f: ConnectFacts): HostError {
  const tried = f.authTried.length > 0 ? f.authTried.join(', ') : 'none';
  const notes = f.authNotes.length > 0 ? ` (${f.authNotes.join('; ')})` : '';
  return new HostError(
    'auth_failed',
    `${f.label}: authentication failed for ${f.address}${via(f)}; tried: ${tried}${notes}. ` +
      `Check user, identity_file / IdentityFile, ssh-agent (SSH_AUTH_SOCK) or password_env.`,
  );
}

export function timeoutError(f: ConnectFacts): HostError {
  return new HostError(
    'timeout',
    `${f.label}: no ssh connection to ${f.address}${via(f)} within ${formatDuration(f.timeoutMs)} (TCP connect, handshake and login); ` +
      `check that the host is up and the port is not filtered, or raise connect_timeout.`,
  );
}

/** Classify an error raised while connecting (before `ready`). */
export function classifyConnectError(err: Ssh2Error, f: ConnectFacts): HostError {
  if (err instanceof HostError) return err;
  const hk = hostKeyError(f);
  if (hk) return hk;
  const code = typeof err.code === 'string' ? err.code : undefined;
  switch (err.level) {
    case 'client-authentication':
      return authError(f);
    case 'client-timeout':
      return timeoutError(f);
    case 'client-dns':
      return new HostError('unreachable', `${f.label}: cannot resolve the name of ${f.address}: ${err.message}; check the host name.`);
    default:
      break;
  }
  if (code === 'ETIMEDOUT') return timeoutError(f);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    const what =
      code === 'ECONNREFUSED'
        ? 'connection refused (is sshd running and listening on that port?)'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host name not found (check the name or HostName in ~/.ssh/config)'
          : `no route to host (${code}; check the address and the network)`;
    return new HostError('unreachable', `${f.label}: cannot reach ${f.address}${via(f)}: ${what}.`);
  }
  if (isRetryablePreAuth(err)) {
    return new HostError(
      'unreachable',
      `${f.label}: ${f.address}${via(f)} closed the connection before login (${err.message}); ` +
        `the server may be overloaded (sshd MaxStartups) or not an ssh server.`,
    );
  }
  return new HostError('unreachable', `${f.label}: ssh connection to ${f.address}${via(f)} failed: ${err.message}.`, err.stack ?? null);
}

/** Error for a bastion's forwardOut refusing to open a channel to the target. */
export function forwardError(err: Ssh2Error, f: ConnectFacts): HostError {
  return new HostError(
    'unreachable',
    `${f.label}: bastion ${f.via ?? '?'} could not open a connection to ${f.address}: ${err.message}; ` +
      `check that the bastion can reach that address and allows TCP forwarding.`,
  );
}

export function connectionLost(label: string, address: string, cause: string): HostError {
  return new HostError('connection_lost', `${label}: connection lost: ${cause} (${address}).`);
}
