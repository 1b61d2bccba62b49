/**
 * The floor under any ssh-based session: connect + auth, a command per exec channel, and a
 * command fed to one long-lived `sh` over raw ssh2. Prints the numbers; asserts only what
 * must hold on any machine (the long-lived shell beats a channel per command).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Client } from 'ssh2';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, rawConnect, run, sshHost, testCtx } from './helpers.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ms per command fed one after another to one long-lived `sh` on one channel. */
async function longLivedSh(c: Client, n: number): Promise<number> {
  const ch = await new Promise<import('ssh2').ClientChannel>((res, rej) => c.exec('sh', (e, s) => (e ? rej(e) : res(s))));
  let buf = '';
  let waiting: (() => void) | undefined;
  ch.on('data', (d: Buffer) => {
    buf += d.toString();
    if (buf.includes('__END__')) {
      buf = '';
      waiting?.();
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => {
      waiting = r;
      ch.write('hostname; echo __END__$?\n');
    });
  }
  const per = (performance.now() - t0) / n;
  ch.end();
  return per;
}

describeIntegration('ssh floor measurements', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('measures connect+auth, exec channel per command, long-lived sh per command', async () => {
    const ctx = testCtx();
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    const connects: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = createSshTransport(sshHost(sshd, { known_hosts: kh }), ctx);
      const t0 = performance.now();
      await t.connect();
      connects.push(performance.now() - t0);
      await t.close();
    }
    const t = createSshTransport(sshHost(sshd, { known_hosts: kh }), ctx);
    await t.connect();
    await run(t, ['hostname']);
    const execs: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const r = await run(t, ['hostname']);
      execs.push(performance.now() - t0);
      expect(r.code).toBe(0);
    }
    await t.close();

    const fast = await rawConnect(sshd, true);
    const shNoDelay = await longLivedSh(fast, 100);
    fast.end();
    const slow = await rawConnect(sshd, false);
    const shNagle = await longLivedSh(slow, 20);
    slow.end();

    const report = {
      connect_auth_ms: Math.round(median(connects)),
      exec_channel_per_command_ms: +median(execs).toFixed(1),
      long_lived_sh_per_command_ms: +shNoDelay.toFixed(1),
      long_lived_sh_without_nodelay_ms: +shNagle.toFixed(1),
    };
    console.log(`ssh floor: ${JSON.stringify(report)}`);
    expect(shNoDelay).toBeLessThan(median(execs));
  });
});
