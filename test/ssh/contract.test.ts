import { afterAll, beforeAll } from 'vitest';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { transportContract } from '../transports/contract.js';
import { knownHostsFile, sshHost, testCtx } from './helpers.js';

describeIntegration('ssh transport contract', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  const ctx = testCtx();
  let kh: string;
  beforeAll(async () => {
    sshd = await startSshd();
    kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });
  transportContract('ssh', () => createSshTransport(sshHost(sshd, { name: 'ssh-contract', known_hosts: kh }), ctx), {
    remoteDir: '/tmp',
    hostName: 'ssh-contract',
  });
});
