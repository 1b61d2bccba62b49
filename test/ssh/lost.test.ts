import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, rejection, run, sshHost, testCtx } from './helpers.js';

describeIntegration('ssh transport: connection lost', sshdUnavailableReason(), () => {
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

  it('sshd killed mid-command: exit rejects connection_lost, onLost fires, later spawns fail the same way', async () => {
    const t = createSshTransport(sshHost(sshd, { name: 'victim', known_hosts: kh }), ctx);
    const lost: Error[] = [];
    t.onLost = (e) => lost.push(e);
    await t.connect();
    const p = t.spawn(['sh', '-c', 'echo started; sleep 30']);
    p.stdin.end();
    await new Promise((r) => p.stdout.once('data', r));
    sshd.signalSessions('SIGKILL');
    const err = await rejection(p.exit);
    expect(err.kind).toBe('connection_lost');
    expect(err.message).toMatch(/^victim: connection lost: /);
    expect(lost).toHaveLength(1);
    const again = await rejection(run(t, ['true']));
    expect(again.kind).toBe('connection_lost');
    await t.close();
  });

  it('a host that stops answering is detected by keepalive as connection_lost', async () => {
    const t = createSshTransport(sshHost(sshd, { name: 'frozen', known_hosts: kh, keepalive_ms: 300, keepalive_count: 2 }), ctx);
    await t.connect();
    const p = t.spawn(['sleep', '30']);
    p.stdin.end();
    await new Promise((r) => setTimeout(r, 200));
    // Stopped processes still have their TCP acked by the kernel: only keepalive notices.
    sshd.signalSessions('SIGSTOP');
    const t0 = Date.now();
    const err = await rejection(p.exit);
    const took = Date.now() - t0;
    sshd.signalSessions('SIGKILL');
    expect(err.kind).toBe('connection_lost');
    expect(err.message).toMatch(/keepalive/);
    expect(took).toBeLessThan(3000);
    await t.close();
  });
});
