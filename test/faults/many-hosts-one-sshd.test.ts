/**
 * 150 host entries on one sshd (same address and port, different names), as a fleet behind one
 * address looks: the real CLI runs one `command` step on all of them. The daemon has OpenSSH's
 * defaults (MaxStartups 10:30:100, MaxSessions 10), which drop unauthenticated connections past
 * 10: the product must cope with them (docs/transports.md#many-hosts). Expected: 150 ok, each
 * host its own connection, exit 0, within a generous bound.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { ensureBuilt, explain, runPlaybook, tempDir, writePlaybook } from '../e2e/cli.js';

const HOSTS = 150;

describeIntegration('faults: 150 hosts on one sshd with its default limits', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd({ maxStartups: '10:30:100', maxSessions: 10 });
  });
  afterAll(async () => {
    await (sshd as SshdHandle | undefined)?.stop();
  });

  it('one command step: 150 ok, exit 0, one connection per host', async () => {
    const dir = tempDir();
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `${sshd.knownHostsLine()}\n`);
    const names = Array.from({ length: HOSTS }, (_, i) => `node${String(i + 1).padStart(3, '0')}`);
    const entry = {
      transport: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identity_file: sshd.identityFile,
      known_hosts: known,
    };
    const pb = writePlaybook(dir, {
      version: 1,
      hosts: Object.fromEntries(names.map((n) => [n, entry])),
      steps: [{ call: 'command', args: { argv: ['echo', '{host}'] } }],
    });
    const r = await runPlaybook(pb, [], { timeoutMs: 230_000, measureRss: true });
    const logins = readFileSync(sshd.logFile, 'utf8').split('Accepted publickey').length - 1;
    // The yardstick on this machine, under its load of the moment: OpenSSH's own client making
    // the same 150 logins, 8 at a time (Chopsticks' handshakes per address).
    const t0 = Date.now();
    const yard = spawnSync(
      'sh',
      [
        '-c',
        `seq ${HOSTS} | xargs -P8 -I{} ssh -q -o BatchMode=yes -o UserKnownHostsFile=${known} -i ${sshd.identityFile} -p ${sshd.port} ${sshd.user}@${sshd.host} echo {}`,
      ],
      { stdio: 'ignore', timeout: 230_000 },
    );
    const yardMs = Date.now() - t0;
    expect(yard.status, 'the OpenSSH yardstick failed').toBe(0);
    console.log(
      `[faults] ${HOSTS} hosts on one default sshd: exit ${r.code} in ${(r.wallMs / 1000).toFixed(1)} s (OpenSSH's ssh, same logins 8 at a time: ${(yardMs / 1000).toFixed(1)} s), controller peak RSS ${((r.peakRssKiB ?? 0) / 1024).toFixed(0)} MiB`,
    );
    expect(r.code, explain(r)).toBe(0);
    expect(logins, 'not one connection per host').toBe(HOSTS);
    const results = r.report!.steps[0]!.results;
    expect(Object.keys(results).sort()).toEqual(names);
    for (const n of names) {
      const res = results[n]!;
      expect(res.ok, `${n}: ${JSON.stringify(res)}`).toBe(true);
      if (res.ok) expect((res.value as { stdout: string }).stdout).toBe(`${n}\n`);
    }
    // Measured 41 s against OpenSSH's 46 s on 2 cores under a load average of 50 to 130 (other
    // work on the machine): no worse than twice the yardstick, or a minute, whichever is more.
    expect(r.wallMs).toBeLessThan(Math.max(60_000, 2 * yardMs));
  }, 480_000);
});
