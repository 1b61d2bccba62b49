import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';

describeIntegration('sshd test harness', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('logs the test user in with the harness key through OpenSSH itself, as /bin/sh, host key pinned', () => {
    const kh = join(sshd.dir, 'kh');
    writeFileSync(kh, `${sshd.knownHostsLine()}\n`);
    const out = execFileSync(
      'ssh',
      [
        '-i',
        sshd.identityFile,
        '-p',
        String(sshd.port),
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'IdentitiesOnly=yes',
        `${sshd.user}@${sshd.host}`,
        'id -un; getent passwd $(id -un) | cut -d: -f7',
      ],
      { encoding: 'utf8', input: '', timeout: 10_000 },
    );
    expect(out.split('\n').slice(0, 2)).toEqual([sshd.user, '/bin/sh']);
  });

  it('stop() ends the daemon and removes its folder', async () => {
    const other = await startSshd();
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
    expect(() => process.kill(other.pid, 0)).toThrow();
  });
});
