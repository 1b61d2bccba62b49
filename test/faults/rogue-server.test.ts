/**
 * A server that is not the one known_hosts names (a rogue or a man in the middle) must receive no
 * credential at all: the host key is checked before any authentication method is tried. The
 * server's own log is the witness: it never sees the user try to authenticate.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_PASSWORD, type SshdHandle } from '../support/sshd.js';
import { failure, knownHostsFile, sshHost, testCtx } from './helpers.js';

describeIntegration('faults: a rogue ssh server', sshdUnavailableReason(), () => {
  let rogue: SshdHandle;
  let genuine: SshdHandle;
  beforeAll(async () => {
    rogue = await startSshd({ password: true });
    genuine = await startSshd();
  });
  afterAll(async () => {
    await (rogue as SshdHandle | undefined)?.stop();
    await (genuine as SshdHandle | undefined)?.stop();
  });

  it('control: with the right key, the same log does show the login', async () => {
    const ctx = testCtx();
    const kh = knownHostsFile(ctx.home, [rogue.knownHostsLine()]);
    const before = readFileSync(rogue.logFile, 'utf8').length;
    const t = createSshTransport(sshHost(rogue, { name: 'target', known_hosts: kh }), ctx);
    await t.connect();
    await t.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(rogue.logFile, 'utf8').slice(before)).toMatch(/Accepted publickey/);
  });

  for (const host_key_check of ['strict', 'accept-new'] as const) {
    it(`${host_key_check}: hostkey_mismatch, and the rogue never sees a key or the password`, async () => {
      const ctx = testCtx({ env: { PATH: process.env.PATH, DEPLOY_PW: TEST_PASSWORD } });
      // known_hosts holds the genuine server's key under the rogue's address.
      const kh = knownHostsFile(ctx.home, [genuine.knownHostsLine(`[${rogue.host}]:${rogue.port}`)]);
      const before = readFileSync(rogue.logFile, 'utf8').length;
      const t = createSshTransport(sshHost(rogue, { name: 'target', known_hosts: kh, host_key_check, password_env: 'DEPLOY_PW' }), ctx);
      const { err } = await failure(t.connect());
      await t.close();
      expect(err.kind).toBe('hostkey_mismatch');
      await new Promise((r) => setTimeout(r, 300));
      const log = readFileSync(rogue.logFile, 'utf8').slice(before);
      expect(log).not.toMatch(/userauth-request|Failed password|Failed publickey|Accepted|Postponed|authenticating user/);
    });
  }
});
