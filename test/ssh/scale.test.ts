import { afterAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, run, sshHost, testCtx } from './helpers.js';

describeIntegration('ssh transport: many hosts', sshdUnavailableReason(), () => {
  const daemons: SshdHandle[] = [];
  const open: Transport[] = [];
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await Promise.all(daemons.map((d) => d.stop()));
  });

  it('accept-new: 30 new hosts connecting at once each end up in known_hosts exactly once', async () => {
    // 30 distinct names need 30 addresses; one sshd listens on at most 16.
    const addrs = Array.from({ length: 30 }, (_, i) => `127.0.0.${i + 10}`);
    const [a, b] = await Promise.all([startSshd({ addresses: addrs.slice(0, 15) }), startSshd({ addresses: addrs.slice(15) })]);
    daemons.push(a, b);
    const ctx = testCtx();
    const file = join(ctx.home, 'known_hosts');
    // Two host entries per address: the same name twice must still give one line.
    const hosts = [...addrs, ...addrs.slice(0, 5)].map((addr, i) => {
      const d = addrs.indexOf(addr) < 15 ? a : b;
      return createSshTransport(sshHost(d, { name: `h${i}`, host: addr, known_hosts: file, host_key_check: 'accept-new' }), ctx);
    });
    open.push(...hosts);
    const outs = await Promise.all(hosts.map((t) => run(t, ['echo', 'ok'])));
    expect(outs.every((o) => o.code === 0 && o.stdout.toString() === 'ok\n')).toBe(true);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe(''); // ends with a newline, no torn last line
    const expected = addrs.map((addr) =>
      (addrs.indexOf(addr) < 15 ? a : b).knownHostsLine(`[${addr}]:${(addrs.indexOf(addr) < 15 ? a : b).port}`),
    );
    expect([...lines].sort()).toEqual([...expected].sort());
  });

  it('40 hosts on one sshd with MaxStartups 10:30:100 and MaxSessions 10 all connect and run', async () => {
    const d = await startSshd({ maxStartups: '10:30:100', maxSessions: 10 });
    daemons.push(d);
    const ctx = testCtx();
    const kh = knownHostsFile(ctx.home, [d.knownHostsLine()]);
    const hosts = Array.from({ length: 40 }, (_, i) => createSshTransport(sshHost(d, { name: `web${i}`, known_hosts: kh }), ctx));
    open.push(...hosts);
    const t0 = Date.now();
    // Each host also opens 12 channels at once: more than MaxSessions allows on one connection.
    const outs = await Promise.all(hosts.map((t, i) => Promise.all(Array.from({ length: 12 }, () => run(t, ['echo', String(i)])))));
    const took = Date.now() - t0;
    outs.forEach((per, i) => per.forEach((o) => expect(o.stdout.toString()).toBe(`${i}\n`)));
    const accepted = readFileSync(d.logFile, 'utf8').split('Accepted publickey').length - 1;
    expect(accepted).toBe(40);
    console.log(`40 hosts x 12 channels on one sshd: ${took} ms`);
  });
});
