/**
 * sshd killed (SIGKILL) while a 64 MiB file is in flight, over a real connection: either the
 * per-connection sshd processes only (the host's shell survives them), or the daemon with every
 * process under it (a host that crashes: nothing on it can clean up). Expected
 * (docs/transports.md#transfers-put-and-fetch): the transfer ends `connection_lost` within a few
 * seconds, the old destination is intact on the side written to, no temp file is left locally,
 * and a remote temp file is gone after the next put into that folder at the latest (the promise
 * for a host lost mid-upload).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_USER, type SshdHandle } from '../support/sshd.js';
import { writeRandomFile } from '../e2e/cli.js';
import { failure, signalPids, sshdChildrenOfMyConnections, sshFixture } from './helpers.js';

const MiB = 1024 * 1024;
const TEMP = '.chopsticks-tmp-';
const OLD = 'the old contents\n';

type Victim = 'connection' | 'daemon';

function testUid(): number {
  return Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
}

function temps(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith(TEMP));
}

/** SIGKILL what `victim` names; the pids are read before the transfer so the kill is immediate. */
function killer(sshd: SshdHandle, victim: Victim): () => void {
  if (victim === 'connection') {
    const pids = sshdChildrenOfMyConnections(sshd.port);
    expect(pids.length, 'no sshd process serves this connection').toBeGreaterThan(0);
    return () => signalPids(pids, 'SIGKILL');
  }
  return () => signalPids([sshd.pid, ...sshd.sessionPids()], 'SIGKILL');
}

/**
 * Calls `kill` as soon as `dir` holds a temp file of at least 1 MiB; `killedAt` is the size seen
 * and `at` the time (0 while not killed).
 */
function killWhenGrowing(dir: string, kill: () => void): { stop: () => void; killedAt: number; at: number } {
  const state = { stop: () => clearInterval(t), killedAt: 0, at: 0 };
  const t = setInterval(() => {
    if (state.at !== 0) return;
    for (const n of temps(dir)) {
      const size = statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0;
      if (size < MiB) continue;
      kill();
      state.killedAt = size;
      state.at = Date.now();
      clearInterval(t);
      return;
    }
  }, 2);
  return state;
}

describeIntegration('faults: sshd killed in the middle of a transfer', sshdUnavailableReason(), () => {
  let src: string;
  let big: string;
  const daemons: SshdHandle[] = [];
  const dirs: string[] = [];
  const folder = (prefix: string, owner?: number): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(d, 0o755);
    if (owner !== undefined) chownSync(d, owner, owner);
    dirs.push(d);
    return d;
  };
  const daemon = async (): Promise<SshdHandle> => {
    const d = await startSshd();
    daemons.push(d);
    return d;
  };
  beforeAll(() => {
    src = folder('chopsticks-faults-src-');
    big = join(src, 'big.bin');
    writeRandomFile(big, 64 * MiB, 14);
    chmodSync(big, 0o644);
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const victim of ['connection', 'daemon'] as const) {
    it(`put, ${victim} killed: connection_lost, the old file intact, no temp file after the next put`, async () => {
      const uid = testUid();
      const remote = folder('chopsticks-faults-remote-', uid);
      const dest = join(remote, 'big.bin');
      writeFileSync(dest, OLD);
      chownSync(dest, uid, uid);
      const sshd = await daemon();
      const s = await sshFixture(sshd).session({ name: 'victim' });
      const watch = killWhenGrowing(remote, killer(sshd, victim));
      try {
        const { err } = await failure(s.put(big, dest, 0o644, {}));
        const settleMs = Date.now() - watch.at;
        expect(watch.at, 'the put ended before the kill').not.toBe(0);
        expect(err.kind, err.message).toBe('connection_lost');
        expect(err.message).toContain('victim');
        expect(settleMs, 'connection_lost took too long').toBeLessThan(3_000);
        expect(readFileSync(dest, 'utf8'), 'the old destination was touched').toBe(OLD);
        const left = temps(remote);
        console.log(
          `[faults] put, ${victim} killed at ${(watch.killedAt / MiB).toFixed(1)} MiB: connection_lost after ${settleMs} ms; remote temp files right after: ${left.length}`,
        );
      } finally {
        watch.stop();
        await s.close();
      }
      // The next put into the folder (through a daemon that is up) clears what is left.
      const next = victim === 'daemon' ? await daemon() : sshd;
      const s2 = await sshFixture(next).session({ name: 'next' });
      try {
        const small = join(src, 'small.txt');
        writeFileSync(small, 'after the crash\n');
        await s2.put(small, `${remote}/`, 0o644, {});
      } finally {
        await s2.close();
      }
      expect(readdirSync(remote).sort(), 'a temp file outlived the next put').toEqual(['big.bin', 'small.txt']);
      expect(readFileSync(dest, 'utf8')).toBe(OLD);
    }, 60_000);

    it(`fetch, ${victim} killed: connection_lost, the old local file intact, no local temp file`, async () => {
      const local = folder('chopsticks-faults-local-');
      const dest = join(local, 'big.bin');
      writeFileSync(dest, OLD);
      const sshd = await daemon();
      const s = await sshFixture(sshd).session({ name: 'victim' });
      const watch = killWhenGrowing(local, killer(sshd, victim));
      try {
        const { err } = await failure(s.fetch(big, dest, {}));
        const settleMs = Date.now() - watch.at;
        expect(watch.at, 'the fetch ended before the kill').not.toBe(0);
        expect(err.kind, err.message).toBe('connection_lost');
        expect(err.message).toContain('victim');
        expect(settleMs, 'connection_lost took too long').toBeLessThan(3_000);
        expect(readFileSync(dest, 'utf8'), 'the old destination was touched').toBe(OLD);
        expect(readdirSync(local), 'a local temp file was left').toEqual(['big.bin']);
        // A fetch writes nothing on the host.
        expect(temps(src)).toEqual([]);
        console.log(`[faults] fetch, ${victim} killed at ${(watch.killedAt / MiB).toFixed(1)} MiB: connection_lost after ${settleMs} ms`);
      } finally {
        watch.stop();
        await s.close();
      }
    }, 60_000);
  }
});
