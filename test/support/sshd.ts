/**
 * A real OpenSSH sshd for tests: its own config, host key, port and log, run as a child
 * process, logging in a dedicated `/bin/sh` test user (root's .bashrc on the test machines runs
 * slow tools for every command, and with PAM off sshd refuses a locked account). Needs root and /usr/sbin/sshd.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_BIN = '/usr/sbin/sshd';
export const TEST_USER = 'chopsticks-test';
/** Password set by `startSshd({ password: true })`; the user has none otherwise. */
export const TEST_PASSWORD = 'chopsticks-Test-pw-7';

export interface SshdOptions {
  /** Addresses to listen on (at most 16, all on one port); default ['127.0.0.1']. */
  addresses?: string[];
  /** sshd's MaxStartups; default `100:30:200` so parallel tests are not throttled. */
  maxStartups?: string;
  /** sshd's MaxSessions; default 50. */
  maxSessions?: number;
  /** Turn on PasswordAuthentication and give the test user TEST_PASSWORD. */
  password?: boolean;
  /** Extra lines appended to sshd_config. */
  extraConfig?: string;
  /**
   * Run sshd inside this network namespace (made by the test). It listens on port 2222 there,
   * and readiness is read from its log, since the controller may have no route to it.
   */
  netns?: string;
}

export interface SshdHandle {
  port: number;
  /** First listen address. */
  host: string;
  addresses: string[];
  user: string;
  /** Private ed25519 key (no passphrase) in authorized_keys. */
  identityFile: string;
  /** The daemon's host public key line, `ssh-ed25519 AAAA... comment`. */
  hostKeyPub: string;
  /** Folder of this daemon's files (config, keys, log); removed by stop(). */
  dir: string;
  logFile: string;
  pid: number;
  /** A known_hosts line for this daemon, for `name` (default `[host]:port`). */
  knownHostsLine(name?: string): string;
  /** PIDs of the per-connection sshd processes (children of the daemon). */
  sessionPids(): number[];
  /** Send `signal` to every per-connection process (not the listener). */
  signalSessions(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Why a real sshd cannot run here, or undefined when it can. */
export function sshdUnavailableReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root (sshd needs root to log another user in)';
  if (!existsSync(SSHD_BIN)) return `${SSHD_BIN} not found (apt-get install -y openssh-server)`;
  if (!existsSync('/usr/bin/ssh-keygen')) return 'ssh-keygen not found (apt-get install -y openssh-client)';
  return undefined;
}

let clientKey: { dir: string; identityFile: string; pub: string } | undefined;
const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Run a shadow-utils command; another test file may hold /etc/passwd's lock for a moment. */
function shadowTool(cmd: string, args: string[], input?: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(cmd, args, { stdio: 'pipe', input });
      return;
    } catch (e) {
      if (attempt >= 30) throw e;
      sleepSync(100);
    }
  }
}

function userExists(): boolean {
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTestUser(): void {
  for (let attempt = 1; !userExists(); attempt++) {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER], { stdio: 'pipe' });
    } catch (e) {
      // Exit 9: created by a concurrent test file; other failures: the lock was busy.
      if (attempt >= 30) throw e;
      sleepSync(100);
    }
  }
  // useradd leaves the account locked ('!'), which sshd refuses with PAM off. Only unlock
  // a locked account: a password set by a concurrent password test must survive.
  const shadow = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${TEST_USER}:`));
  const hash = shadow?.split(':')[1] ?? '';
  if (hash.startsWith('!')) shadowTool('usermod', ['-p', '*', TEST_USER]);
}

function setTestPassword(): void {
  shadowTool('chpasswd', [], `${TEST_USER}:${TEST_PASSWORD}\n`);
}

function ensureClientKey(): { identityFile: string; pub: string } {
  if (clientKey && existsSync(clientKey.identityFile)) return clientKey;
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-sshkey-'));
  const identityFile = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'chopsticks-test-client', '-f', identityFile]);
  clientKey = { dir, identityFile, pub: readFileSync(`${identityFile}.pub`, 'utf8').trim() };
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return clientKey;
}

/** A port nothing listens on (for a moment): a refused connection, or a port for a new server. */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Direct and indirect children of `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = readFileSync(`/proc/${ent}/stat`, 'utf8');
      // comm may contain spaces and parens: fields after the last ')' are fixed.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(ent), Number(rest[1]));
    } catch {
      // exited while reading
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdHandle> {
  const reason = sshdUnavailableReason();
  if (reason) throw new Error(`cannot start sshd: ${reason}`);
  const addresses = opts.addresses ?? ['127.0.0.1'];
  if (addresses.length === 0 || addresses.length > 16) throw new Error('sshd listens on 1 to 16 addresses');
  ensureTestUser();
  if (opts.password) setTestPassword();
  const key = ensureClientKey();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-sshd-'));
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'chopsticks-test-host', '-f', hostKey]);
  const hostKeyPub = readFileSync(`${hostKey}.pub`, 'utf8').trim();
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `${key.pub}\n`, { mode: 0o644 });
  const logFile = join(dir, 'sshd.log');
  const configFile = join(dir, 'sshd_config');

  for (let attempt = 0; ; attempt++) {
    const port = opts.netns !== undefined ? 2222 : await freePort(addresses[0]!);
    const config = [
      `Port ${port}`,
      ...addresses.map((a) => `ListenAddress ${a}`),
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      // The key file lives under /tmp (world-writable), which StrictModes would refuse.
      'StrictModes no',
      'UsePAM no',
      `PasswordAuthentication ${opts.password ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AllowUsers ${TEST_USER}`,
      `MaxStartups ${opts.maxStartups ?? '100:30:200'}`,
      `MaxSessions ${opts.maxSessions ?? 50}`,
      'MaxAuthTries 20',
      `LogLevel ${process.env.CHOPSTICKS_SSHD_LOGLEVEL ?? 'VERBOSE'}`,
      'UseDNS no',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      opts.extraConfig ?? '',
      '',
    ].join('\n');
    writeFileSync(configFile, config);
    const argv = [SSHD_BIN, '-f', configFile, '-E', logFile, '-D'];
    // `ip netns exec` execs sshd in place: the child's pid is sshd's.
    const child =
      opts.netns !== undefined
        ? spawn('ip', ['netns', 'exec', opts.netns, ...argv], { stdio: 'ignore' })
        : spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    running.add(child);
    let exited = false as boolean; // `as`: the exit handler sets it while this waits
    child.once('exit', () => {
      exited = true;
      running.delete(child);
    });
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      const listening =
        opts.netns !== undefined
          ? existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Server listening on')
          : await canConnect(addresses[0]!, port);
      if (listening) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!up) {
      child.kill('SIGKILL');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      // The free port may have been taken between probing and binding: try another.
      if (attempt < 3 && /Address already in use|Bind to port/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start listening on ${addresses[0]}:${port}:\n${log}`);
    }
    const pid = child.pid!;
    const handle: SshdHandle = {
      port,
      host: addresses[0]!,
      addresses,
      user: TEST_USER,
      identityFile: key.identityFile,
      hostKeyPub,
      dir,
      logFile,
      pid,
      knownHostsLine(name?: string) {
        const [type, b64] = hostKeyPub.split(' ');
        return `${name ?? `[${addresses[0]}]:${port}`} ${type} ${b64}`;
      },
      sessionPids: () => descendants(pid),
      signalSessions(signal) {
        for (const p of descendants(pid)) killQuietly(p, signal);
      },
      async stop() {
        const sessions = descendants(pid);
        if (!exited) {
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGTERM');
          await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the exit handler sets it during the wait
          if (!exited) child.kill('SIGKILL');
        }
        // Per-connection processes outlive the listener; a test's leftovers must not.
        for (const p of sessions) killQuietly(p, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return handle;
  }
}
