/**
 * ssh2 has no option for a channel's read buffer; capReadBuffer sets Node's stream field behind
 * it. An ssh2 or Node upgrade that made that a no-op would bring back the slower fetch
 * (docs/transports.md#transfers-put-and-fetch): this checks, against a real sshd, when ssh2
 * asks the server for more data.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Client, ClientChannel } from 'ssh2';
import { setTimeout as sleep } from 'node:timers/promises';
import { capReadBuffer } from '../../src/transports/ssh/process.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { rawConnect } from './helpers.js';

const MiB = 1024 * 1024;

describeIntegration('ssh channel read buffer', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  let client: Client;
  beforeAll(async () => {
    sshd = await startSshd();
    client = await rawConnect(sshd);
  });
  afterAll(async () => {
    (client as Client | undefined)?.end();
    await (sshd as typeof sshd | undefined)?.stop();
  });

  /** What the channel holds once nothing has arrived for 300 ms (the server waits for window). */
  async function settled(ch: ClientChannel): Promise<number> {
    let last = -1;
    let still = 0;
    for (let i = 0; i < 200 && still < 6; i++) {
      still = ch.readableLength === last ? still + 1 : 0;
      last = ch.readableLength;
      await sleep(50);
    }
    return ch.readableLength;
  }

  /**
   * Capped, a channel nobody reads holds its first window (2 MiB) and no more; reading 1 MiB
   * of it leaves 1 MiB unread, so ssh2 must not ask the server for more. Uncapped, ssh2 tops
   * the window up until 2 MiB sit unread: 3 MiB arrive, and 2 MiB stay unread after the read.
   */
  async function unreadAfterReadingOneMiB(cap: boolean): Promise<{ first: number; after: number }> {
    const ch = await new Promise<ClientChannel>((res, rej) => client.exec('head -c 16777216 /dev/zero', (e, c) => (e ? rej(e) : res(c))));
    if (cap) capReadBuffer(ch);
    const first = await settled(ch);
    let read = 0;
    while (read < MiB) read += (ch.read(Math.min(64 * 1024, MiB - read)) as Buffer | null)?.length ?? MiB;
    const after = await settled(ch);
    ch.destroy();
    return { first, after };
  }

  it('asks for no more data while 64 KiB are unread (ssh2 alone: while 2 MiB are)', async () => {
    const uncapped = await unreadAfterReadingOneMiB(false);
    expect(uncapped.first).toBeGreaterThan(2 * MiB);
    expect(uncapped.after).toBeGreaterThanOrEqual(2 * MiB);
    const capped = await unreadAfterReadingOneMiB(true);
    expect(capped.first).toBe(2 * MiB);
    expect(capped.after).toBe(MiB);
  });
});
