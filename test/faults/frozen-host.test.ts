/**
 * A host that freezes (its per-connection sshd SIGSTOPped: TCP still acked, nothing answers).
 * Findings: the remote command survived connection_lost (still running after the host came
 * back), and closing the session after a step timeout on the frozen host took 12 s more.
 * Expected: connection_lost by keepalive; the command stopped on the host once it is back (its
 * session ended); closing bounded by a second or two.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import {
  after,
  failure,
  processesMatching,
  signalPids,
  sshdChildrenOfMyConnections,
  sshFixture,
  waitFor,
  type SshFixture,
} from './helpers.js';

function uniqueSleep(): string {
  return `40.${process.pid}${Math.floor(Math.random() * 1000)}`;
}

describeIntegration('faults: a frozen ssh host', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  let fx: SshFixture;
  const frozen: number[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
    fx = sshFixture(sshd);
  });
  afterAll(async () => {
    signalPids(frozen, 'SIGCONT');
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('connection_lost by keepalive; the command is stopped on the host when it comes back', async () => {
    const s = await fx.session({ name: 'frozen1', keepalive_ms: 300, keepalive_count: 2 });
    const sleep = uniqueSleep();
    const running = s.run(['sleep', sleep]);
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 1, 5_000)).toBe(true);
    const pids = sshdChildrenOfMyConnections(sshd.port);
    expect(pids.length).toBeGreaterThan(0);
    frozen.push(...pids);
    signalPids(pids, 'SIGSTOP');
    try {
      const { err, ms } = await failure(running);
      expect(err.kind).toBe('connection_lost');
      expect(err.message).toMatch(/keepalive/);
      expect(ms).toBeLessThan(4_000);
      const t0 = Date.now();
      await s.close();
      expect(Date.now() - t0, 'closing a lost session waited').toBeLessThan(2_000);
    } finally {
      signalPids(pids, 'SIGCONT');
    }
    // Back: sshd sees the connection is gone and ends the session; the command goes with it.
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 6_000), 'the remote command outlived its connection').toBe(
      true,
    );
  }, 30_000);

  it('a step timeout on a frozen host: closing takes at most a second or two; the command is stopped once the host is back', async () => {
    const s = await fx.session({ name: 'frozen2' });
    const sleep = uniqueSleep();
    const running = s.run(['sleep', sleep], { timeoutMs: 1_000 });
    running.catch(() => undefined);
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 1, 5_000)).toBe(true);
    const pids = sshdChildrenOfMyConnections(sshd.port);
    frozen.push(...pids);
    signalPids(pids, 'SIGSTOP');
    try {
      // The executor stops waiting at the step timeout (the session cannot: the host is silent).
      expect(
        await Promise.race([
          running.then(
            () => 'ok',
            () => 'failed',
          ),
          after(1_500),
        ]),
      ).toBe('hung');
      const t0 = Date.now();
      await s.close();
      const took = Date.now() - t0;
      console.log(`[faults] close after a timeout on a frozen host: ${took} ms`);
      expect(took).toBeLessThan(2_500);
    } finally {
      signalPids(pids, 'SIGCONT');
    }
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 6_000), 'the remote command outlived its session').toBe(
      true,
    );
  }, 30_000);
});
