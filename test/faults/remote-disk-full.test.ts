/**
 * A put into a full disk on the host: the destination folder is a small tmpfs on this machine,
 * reached through a real sshd, the local transport and a container it is mounted in. Expected: `remote_io` naming
 * "No space left on device", the old destination intact, no temp file left on the tmpfs, and
 * the session still usable. (A fetch into a full disk on the controller is
 * controller-disk-full.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { describeIntegration } from '../support/integration.js';
import { dockerUnavailableReason, removeAllTestContainers, removeTestContainer, startTestContainer } from '../support/docker.js';
import { startSshd, sshdUnavailableReason, TEST_USER, type SshdHandle } from '../support/sshd.js';
import { writeRandomFile } from '../e2e/cli.js';
import { dockerSession, failure, smallDisk, sshFixture, tmpfsUnavailableReason } from './helpers.js';

const MiB = 1024 * 1024;
const OLD = 'the old contents\n';
const tmpfsReason = tmpfsUnavailableReason();

let src: string;
let big: string;
beforeAll(() => {
  if (tmpfsReason !== undefined) return;
  src = mkdtempSync(join(tmpdir(), 'chopsticks-faults-src-'));
  chmodSync(src, 0o755);
  big = join(src, 'big.bin');
  writeRandomFile(big, 16 * MiB, 2);
  chmodSync(big, 0o644);
});
afterAll(() => {
  if (tmpfsReason === undefined) rmSync(src, { recursive: true, force: true });
});

/**
 * `owner`: the uid the host logs in as (the tmpfs root and the old file are made theirs);
 * `seen`: where the host sees the tmpfs (a container mounts it elsewhere).
 */
async function expectRemoteDiskFull(s: HostSession, owner: number, disk: { dir: string }, seen = disk.dir): Promise<void> {
  chownSync(disk.dir, owner, owner);
  const old = join(disk.dir, 'app.bin');
  writeFileSync(old, OLD);
  chownSync(old, owner, owner);
  const dest = `${seen}/app.bin`;
  const { err, ms } = await failure(s.put(big, dest, 0o644, {}));
  console.log(`[faults] put into a full host disk: ${err.kind} after ${ms} ms: ${err.message}`);
  expect(err.kind, err.message).toBe('remote_io');
  expect(err.message).toMatch(/No space left on device/);
  expect(err.message).toContain(dest);
  expect(ms).toBeLessThan(10_000);
  expect(readFileSync(old, 'utf8'), 'the old destination was touched').toBe(OLD);
  expect(readdirSync(disk.dir), 'a temp file was left on the full disk').toEqual(['app.bin']);
  // The session is still usable, and so is the disk once the file fits.
  const small = join(src, 'small.bin');
  writeRandomFile(small, 1 * MiB, 3);
  chmodSync(small, 0o644);
  expect((await s.put(small, dest, 0o644, {})).changed).toBe(true);
  expect(readdirSync(disk.dir)).toEqual(['app.bin']);
}

describeIntegration('faults: full disk on the host, local', tmpfsReason, () => {
  it('put fails with remote_io, the old file intact, no temp file', async () => {
    const disk = smallDisk(8);
    const s = await openSession(new LocalTransport({ hostName: 'loc' }), { name: 'loc' });
    try {
      await expectRemoteDiskFull(s, 0, disk);
    } finally {
      await s.close();
      disk.release();
    }
  });
});

describeIntegration('faults: full disk on the host, ssh', sshdUnavailableReason() ?? tmpfsReason, () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });
  it('put fails with remote_io, the old file intact, no temp file', async () => {
    const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
    const disk = smallDisk(8);
    const s = await sshFixture(sshd).session({ name: 'ssh1' });
    try {
      await expectRemoteDiskFull(s, uid, disk);
    } finally {
      await s.close();
      disk.release();
    }
  });
});

const dockerReason = await dockerUnavailableReason();
describeIntegration('faults: full disk on the host, docker', dockerReason ?? tmpfsReason, () => {
  afterAll(async () => {
    await removeAllTestContainers();
  });
  it('put fails with remote_io, the old file intact, no temp file', async () => {
    const disk = smallDisk(8);
    const name = `chopsticks-faults-rdisk-${process.pid}`;
    try {
      await startTestContainer(name, { binds: [`${disk.dir}:/full`] });
      const s = await dockerSession('d1', { container: name });
      try {
        await expectRemoteDiskFull(s, 0, disk, '/full');
      } finally {
        await s.close();
      }
    } finally {
      await removeTestContainer(name);
      disk.release();
    }
  }, 120_000);
});
