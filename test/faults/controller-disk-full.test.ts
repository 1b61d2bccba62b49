/**
 * Finding: a fetch into a full disk on the controller hung forever over ssh and docker (the
 * temp file stopped at the disk's size and the step never settled). Expected: remote_io naming
 * the local path and "No space left on device", no partial file, within a second or two.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { describeIntegration } from '../support/integration.js';
import { dockerUnavailableReason, removeAllTestContainers, startTestContainer } from '../support/docker.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { after, dockerSession, failure, smallDisk, sshFixture, tmpfsUnavailableReason } from './helpers.js';

const MiB = 1024 * 1024;
const tmpfsReason = tmpfsUnavailableReason();

async function expectDiskFull(s: HostSession, remote: string): Promise<void> {
  const disk = smallDisk(8);
  try {
    const dest = join(disk.dir, 'sub', 'big.bin');
    const r = await Promise.race([failure(s.fetch(remote, dest, {})), after(10_000)]);
    expect(r, 'the fetch hung on a full disk').not.toBe('hung');
    const { err, ms } = r as Awaited<ReturnType<typeof failure>>;
    expect(err.kind, err.message).toBe('remote_io');
    expect(err.message).toContain(join(disk.dir, 'sub'));
    expect(err.message).toMatch(/No space left on device/);
    expect(ms).toBeLessThan(3_000);
    expect(readdirSync(join(disk.dir, 'sub')), 'a partial file was left').toEqual([]);
    // The session is still usable after the failed transfer.
    expect((await s.run(['echo', 'alive'])).stdout).toBe('alive\n');
  } finally {
    disk.release();
  }
}

describeIntegration('faults: full controller disk, local', tmpfsReason, () => {
  it('fetch fails with remote_io at once', async () => {
    const src = mkdtempSync(join(tmpdir(), 'chopsticks-faults-src-'));
    writeFileSync(join(src, 'big.bin'), randomBytes(16 * MiB));
    const s = await openSession(new LocalTransport({ hostName: 'loc' }), { name: 'loc' });
    try {
      await expectDiskFull(s, join(src, 'big.bin'));
    } finally {
      await s.close();
      rmSync(src, { recursive: true, force: true });
    }
  });
});

describeIntegration('faults: full controller disk, ssh', sshdUnavailableReason() ?? tmpfsReason, () => {
  let sshd: SshdHandle;
  let src: string;
  beforeAll(async () => {
    sshd = await startSshd();
    src = mkdtempSync(join(tmpdir(), 'chopsticks-faults-src-'));
    chmodSync(src, 0o755);
    writeFileSync(join(src, 'big.bin'), randomBytes(16 * MiB), { mode: 0o644 });
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
    rmSync(src, { recursive: true, force: true });
  });
  it('fetch fails with remote_io at once', async () => {
    const s = await sshFixture(sshd).session({ name: 'ssh1' });
    try {
      await expectDiskFull(s, join(src, 'big.bin'));
    } finally {
      await s.close();
    }
  });
});

const dockerReason = await dockerUnavailableReason();
describeIntegration('faults: full controller disk, docker', dockerReason ?? tmpfsReason, () => {
  const name = `chopsticks-faults-disk-${process.pid}`;
  beforeAll(async () => {
    await startTestContainer(name);
  }, 120_000);
  afterAll(async () => {
    await removeAllTestContainers();
  });
  it('fetch fails with remote_io at once', async () => {
    const s = await dockerSession('d1', { container: name });
    try {
      expect((await s.run(['dd', 'if=/dev/urandom', 'of=/tmp/big.bin', 'bs=1048576', 'count=16'])).rc).toBe(0);
      await expectDiskFull(s, '/tmp/big.bin');
    } finally {
      await s.close();
    }
  });
});
