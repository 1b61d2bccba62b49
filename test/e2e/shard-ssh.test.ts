/**
 * --shard over real sshd: 40 ssh hosts (entries sharing three sshd addresses, each its own
 * connection) split over 3 controller processes running at once, their reports merged, equal to
 * one controller running all 40 (statuses, values, order; not timings).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostsInShard } from '../../src/lang/shard.js';
import { describeIntegration } from '../support/integration.js';
import { comparable } from '../support/report-compare.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { assertReportValid, ensureBuilt, explain, runCli, runPlaybook, tempDir, writePlaybook } from './cli.js';
import type { RunReport } from '../../src/report/report-types.js';

const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const N = 3;

describeIntegration('e2e: sharded runs over real sshd, merged', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  let known: string;
  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd({ addresses: ADDRESSES });
    known = join(tempDir(), 'known_hosts');
    writeFileSync(known, ADDRESSES.map((a) => `${sshd.knownHostsLine(`[${a}]:${sshd.port}`)}\n`).join(''));
  }, 60_000);
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('3 shards of 40 hosts merge into the report of one unsharded run', async () => {
    const dir = tempDir();
    const names = Array.from({ length: 40 }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
    const hosts: Record<string, unknown> = {};
    names.forEach((n, i) => {
      hosts[n] = {
        transport: 'ssh',
        host: ADDRESSES[i % ADDRESSES.length],
        // node13 is down: nothing listens on port 1.
        port: n === 'node13' ? 1 : sshd.port,
        user: sshd.user,
        identity_file: sshd.identityFile,
        known_hosts: known,
        connect_timeout: '60s',
      };
    });
    const pb = writePlaybook(dir, {
      version: 1,
      name: 'sharded over ssh',
      hosts,
      groups: { first: names.slice(0, 20), rest: 'all - first' },
      steps: [
        { call: 'shell', args: { cmd: 'echo {host}' } },
        { filter: 'test', args: { cmd: 'case {host} in *[02468]) true;; *) false;; esac' }, as: 'even' },
        {
          call: 'shell',
          args: { cmd: 'if [ {host} = node22 ]; then echo node22 is broken >&2; exit 4; fi; echo even {host}' },
          on: 'even',
        },
        { call: 'facts.os', on: 'rest | failed(deploy)' },
      ].map((s, i) => (i === 2 ? { ...s, register: 'deploy' } : s)),
    });

    const whole = await runPlaybook(pb, [], { timeoutMs: 120_000 });
    expect(whole.code, explain(whole)).toBe(2);
    assertReportValid(whole);

    const shards = await Promise.all(
      Array.from({ length: N }, (_, i) => runPlaybook(pb, ['--shard', `${i}/${N}`], { timeoutMs: 120_000 })),
    );
    const files: string[] = [];
    shards.forEach((r, i) => {
      assertReportValid(r);
      const mine = hostsInShard(names, { index: i, count: N });
      expect(Object.keys(r.report!.hosts), `shard ${i}`).toEqual(mine);
      expect(r.code, explain(r)).toBe(mine.includes('node13') || mine.includes('node22') ? 2 : 0);
      const f = join(dir, `shard-${i}.json`);
      writeFileSync(f, JSON.stringify(r.report));
      files.push(f);
    });

    const out = join(dir, 'merged.json');
    const merge = await runCli(['report', 'merge', ...files, '-o', out], { cwd: dir, report: false });
    expect(merge.code, explain(merge)).toBe(0);
    const { readFileSync } = await import('node:fs');
    const merged = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
    assertReportValid({ ...merge, report: merged });
    expect(comparable(merged)).toEqual(comparable(whole.report!));
    expect(merged.hosts.node13).toBe('unreachable');
    expect(merged.hosts.node22).toBe('failed');
    expect(merged.groups.even).toEqual(names.filter((n) => /[02468]$/.test(n) && n !== 'node13'));
  }, 300_000);
});
