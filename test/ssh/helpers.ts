/** Shared bits of the ssh transport tests: host specs, a context, running a command. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import type { SshHost } from '../../src/model/playbook.js';
import type { SshContext } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import type { SshdHandle } from '../support/sshd.js';

export interface TestCtx extends SshContext {
  warnings: string[];
  hosts: Map<string, SshHost>;
  home: string;
}

const homes: string[] = [];
process.once('exit', () => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

/** A context with an empty home (no default keys, no known_hosts) and no ssh-agent. */
export function testCtx(extra: Partial<SshContext> = {}): TestCtx {
  const home = mkdtempSync(join(tmpdir(), 'chopsticks-sshhome-'));
  homes.push(home);
  const warnings: string[] = [];
  const hosts = new Map<string, SshHost>();
  return {
    warnings,
    hosts,
    home,
    homeDir: home,
    warn: (m) => warnings.push(m),
    resolveHost: (n) => hosts.get(n),
    sshConfigPath: join(home, 'no-ssh-config'),
    env: { PATH: process.env.PATH },
    ...extra,
  };
}

export function sshHost(sshd: SshdHandle, over: Partial<SshHost> = {}): SshHost {
  return {
    transport: 'ssh',
    name: over.name ?? 'h1',
    vars: {},
    pos: { file: 'test.yml', line: 1, col: 1 },
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identity_file: sshd.identityFile,
    host_key_check: 'strict',
    connect_timeout_ms: 10_000,
    keepalive_ms: 15_000,
    keepalive_count: 3,
    ...over,
  };
}

/** A known_hosts file in `dir` holding `lines`. */
export function knownHostsFile(dir: string, lines: string[], name = 'known_hosts'): string {
  const f = join(dir, name);
  writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
  return f;
}

export interface Ran {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  signal: string | null;
}

export async function run(t: Transport, argv: string[], stdin?: Buffer | string): Promise<Ran> {
  const p = t.spawn(argv);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout.on('data', (b: Buffer) => out.push(b));
  p.stderr.on('data', (b: Buffer) => err.push(b));
  p.stdin.end(stdin ?? '');
  const { code, signal } = await p.exit;
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code, signal };
}

/** The HostError a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { kind: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** A raw ssh2 connection to the test sshd, with or without TCP_NODELAY on its socket. */
export function rawConnect(sshd: SshdHandle, noDelay = true): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: sshd.host, port: sshd.port });
    sock.setNoDelay(noDelay);
    const c = new Client();
    c.once('ready', () => resolve(c)).once('error', reject);
    c.connect({ sock, username: sshd.user, privateKey: readFileSync(sshd.identityFile) });
  });
}
