/**
 * Helpers of the fault suite: sessions over real sshd and Docker, a full disk (tmpfs), a
 * frozen host (SIGSTOP of the per-connection sshd process). Every fault is real: no mocks.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { HostError } from '../../src/errors.js';
import type { DockerHost, SshHost } from '../../src/model/playbook.js';
import { createDockerTransport } from '../../src/transports/docker/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import type { SshdHandle } from '../support/sshd.js';
import { knownHostsFile, sshHost, testCtx, type TestCtx } from '../ssh/helpers.js';

export { sshHost, testCtx, knownHostsFile };

/** Why a tmpfs cannot be mounted here, or undefined. */
export function tmpfsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A folder on a tmpfs of `sizeMiB`; `release` unmounts and removes it (call in finally). */
export function smallDisk(sizeMiB = 8): { dir: string; release: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-fulldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return {
    dir,
    release: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface SshFixture {
  ctx: TestCtx;
  kh: string;
  host(over?: Partial<SshHost>): SshHost;
  transport(over?: Partial<SshHost>): Transport;
  session(over?: Partial<SshHost>): Promise<HostSession>;
}

export function sshFixture(sshd: SshdHandle): SshFixture {
  const ctx = testCtx();
  const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
  const host = (over: Partial<SshHost> = {}): SshHost => sshHost(sshd, { known_hosts: kh, ...over });
  const transport = (over: Partial<SshHost> = {}): Transport => createSshTransport(host(over), ctx);
  return {
    ctx,
    kh,
    host,
    transport,
    session: (over = {}) => openSession(transport(over), { name: over.name ?? 'h1', vars: {} }),
  };
}

export function dockerSession(name: string, fields: Partial<DockerHost>, runId = `faults-${process.pid}`): Promise<HostSession> {
  const host: DockerHost = {
    name,
    transport: 'docker',
    vars: {},
    ephemeral: false,
    pos: { file: 'faults.yaml', line: 1, col: 1 },
    ...fields,
  };
  return openSession(createDockerTransport(host, { runId }), { name, vars: {} });
}

/** The HostError a promise rejects with, and how long it took to settle. */
export async function failure(p: Promise<unknown>): Promise<{ err: HostError; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(HostError);
    return { err: e as HostError, ms: Date.now() - t0 };
  }
  throw new Error('expected a HostError, but it succeeded');
}

/** Resolves to `undefined` after `ms`, to race an operation that might hang. */
export function after(ms: number): Promise<'hung'> {
  return new Promise((r) => setTimeout(() => r('hung'), ms).unref());
}

/**
 * Pids of the per-connection sshd processes serving connections from this test process to
 * `port` (found by the client's source port with `ss -tnp`), for freezing one host only.
 */
export function sshdChildrenOfMyConnections(port: number): number[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' });
  const mine = new Set<string>();
  const rows = out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
  // Columns: Recv-Q Send-Q Local Peer Process
  for (const r of rows) {
    const [, , local, peer, proc] = r;
    if (peer?.endsWith(`:${port}`) && proc?.includes(`pid=${process.pid},`)) mine.add(local!.slice(local!.lastIndexOf(':') + 1));
  }
  const pids = new Set<number>();
  for (const r of rows) {
    const [, , local, peer, proc] = r;
    if (!local?.endsWith(`:${port}`) || peer === undefined || proc === undefined) continue;
    if (!mine.has(peer.slice(peer.lastIndexOf(':') + 1))) continue;
    for (const m of proc.matchAll(/pid=(\d+)/g)) pids.add(Number(m[1]));
  }
  return [...pids];
}

export function signalPids(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // gone
    }
  }
}

/** Pids of processes whose command line contains `needle` (excluding this process). */
export function processesMatching(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.split(/\s+/)[0]))
    .filter((p) => p !== process.pid);
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return cond();
}
