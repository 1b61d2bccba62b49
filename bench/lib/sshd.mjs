// The bench's ssh test bed: N "hosts" on loopback, each its own 127.0.x.y address, served by
// several plain sshd processes (one sshd listens on at most 16 addresses). Same recipe as
// test/support/sshd.ts: own config, PAM off, a /bin/sh test user, never root (root's .bashrc runs
// slow tools for every command).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_BIN = '/usr/sbin/sshd';
export const TEST_USER = 'chopsticks-test';
const ADDRESSES_PER_DAEMON = 16;

export function sshdUnavailableReason() {
  if (process.getuid?.() !== 0) return 'not running as root (sshd needs root to log another user in)';
  if (!existsSync(SSHD_BIN)) return `${SSHD_BIN} not found (apt-get install -y openssh-server)`;
  if (!existsSync('/usr/bin/ssh-keygen')) return 'ssh-keygen not found (apt-get install -y openssh-client)';
  return undefined;
}

function ensureTestUser() {
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER], { stdio: 'pipe' });
    } catch (e) {
      if (e.status !== 9) throw e; // 9: created by someone else meanwhile
    }
  }
  const line = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${TEST_USER}:`));
  // useradd leaves the account locked, which sshd refuses with PAM off.
  if ((line?.split(':')[1] ?? '').startsWith('!')) execFileSync('usermod', ['-p', '*', TEST_USER]);
}

function freePort(host) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Loopback address of host i (0-based): 127.0.10.1, 127.0.10.2, ... 250 per /24. */
export function hostAddress(i) {
  return `127.0.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function hostName(i) {
  return `h${String(i + 1).padStart(3, '0')}`;
}

async function startDaemon(dir, idx, addresses, hostKey, authorizedKeys) {
  const logFile = join(dir, `sshd-${idx}.log`);
  const configFile = join(dir, `sshd-${idx}.conf`);
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort(addresses[0]);
    writeFileSync(
      configFile,
      [
        `Port ${port}`,
        ...addresses.map((a) => `ListenAddress ${a}`),
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, `sshd-${idx}.pid`)}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'StrictModes no', // keys live under /tmp
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        `AllowUsers ${TEST_USER}`,
        'MaxStartups 400:30:800',
        'MaxSessions 100',
        'LogLevel ERROR',
        'UseDNS no',
        'PrintMotd no',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD_BIN, ['-f', configFile, '-E', logFile, '-D'], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await canConnect(addresses[0], port)) return { child, port, addresses, isExited: () => exited };
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (!/Address already in use|Bind to port/.test(log)) throw new Error(`sshd did not start on ${addresses[0]}:${port}:\n${log}`);
  }
  throw new Error(`sshd could not find a free port on ${addresses[0]}`);
}

/**
 * Start sshd daemons serving `count` hosts. Returns the hosts, a client key, a known_hosts file
 * and an OpenSSH client config (Host aliases h001..) that every OpenSSH-based tool can use.
 */
export async function startSshFleet(count) {
  const reason = sshdUnavailableReason();
  if (reason) throw new Error(`cannot start sshd: ${reason}`);
  ensureTestUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-bench-sshd-'));
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', hostKey]);
  const identityFile = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-client', '-f', identityFile]);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${identityFile}.pub`), { mode: 0o644 });
  const hostKeyPub = readFileSync(`${hostKey}.pub`, 'utf8').trim();
  const [keyType, keyB64] = hostKeyPub.split(' ');

  const daemons = [];
  const hosts = [];
  try {
    for (let first = 0; first < count; first += ADDRESSES_PER_DAEMON) {
      const n = Math.min(ADDRESSES_PER_DAEMON, count - first);
      const addresses = Array.from({ length: n }, (_, k) => hostAddress(first + k));
      const d = await startDaemon(dir, daemons.length, addresses, hostKey, authorizedKeys);
      daemons.push(d);
      addresses.forEach((address, k) => hosts.push({ name: hostName(first + k), address, port: d.port }));
    }
  } catch (e) {
    for (const d of daemons) d.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `[${h.address}]:${h.port} ${keyType} ${keyB64}\n`).join(''));
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    hosts
      .map((h) =>
        [
          `Host ${h.name}`,
          `  HostName ${h.address}`,
          `  Port ${h.port}`,
          `  User ${TEST_USER}`,
          `  IdentityFile ${identityFile}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHosts}`,
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '  LogLevel ERROR',
          '',
        ].join('\n'),
      )
      .join('\n'),
  );

  return {
    dir,
    hosts,
    user: TEST_USER,
    identityFile,
    knownHosts,
    sshConfig,
    hostKeyPub,
    daemonCount: daemons.length,
    async stop() {
      for (const d of daemons) {
        if (d.isExited()) continue;
        const gone = new Promise((r) => d.child.once('exit', r));
        d.child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (!d.isExited()) d.child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
