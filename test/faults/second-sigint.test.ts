/**
 * Finding: a second SIGINT exited at once but left no report, and left the run's ephemeral
 * container for the next run to reap. Expected: out at once, the report of what is known by then
 * written (a step that finished keeps its results), the ephemeral container removed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { cleanup, ensureBuilt, readReport, startCli, tempDir, writePlaybook } from '../cli/helpers.js';
import { describeIntegration } from '../support/integration.js';
import { dockerUnavailableReason, ensureTestImage, TEST_IMAGE } from '../support/docker.js';
import { waitFor } from './helpers.js';

const run = promisify(execFile);
const reason = await dockerUnavailableReason();

async function ephemeralsOf(hostName: string): Promise<string[]> {
  const { stdout } = await run('docker', [
    'ps',
    '-a',
    '-q',
    '--filter',
    'label=chopsticks.ephemeral',
    '--filter',
    `label=chopsticks.host=${hostName}`,
  ]);
  return stdout.split('\n').filter(Boolean);
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) cleanup(dir);
});

describeIntegration('faults: a second SIGINT', reason, () => {
  beforeAll(async () => {
    ensureBuilt();
    await ensureTestImage();
  }, 240_000);

  it('exits at once, still writes the report (finished steps kept), removes the ephemeral container', async () => {
    dir = tempDir();
    const eph = `eph-${process.pid}-${randomBytes(3).toString('hex')}`;
    const marker = `chopsticks-faults-${randomBytes(4).toString('hex')}`;
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  ${eph}: { transport: docker, image: "${TEST_IMAGE}", ephemeral: true }
steps:
  - call: ping
  - call: command
    args: { argv: [sh, -c, "trap '' TERM INT; sleep 30; true", ${marker}] }
`,
    );
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report, '--output', 'plain'], { timeoutMs: 60_000 });
    const started = await waitFor(
      async () => {
        const ids = await ephemeralsOf(eph);
        if (ids.length !== 1) return false;
        const top = await run('docker', ['top', ids[0]!, '-o', 'pid,args']).then(
          (r) => r.stdout,
          () => '',
        );
        return top.includes(marker);
      },
      30_000,
      200,
    );
    expect(started, 'the sleep never started').toBe(true);
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    child.kill('SIGINT');
    const r = await done;
    const took = Date.now() - t;
    console.log(`[faults] second SIGINT: exited ${took} ms after it`);
    expect(r.code, r.stderr).toBe(130);
    expect(took).toBeLessThan(2_500);
    const rep = readReport(report);
    expect(rep.status).toBe('interrupted');
    expect(rep.steps[0]!.status).toBe('ok');
    expect(rep.steps[0]!.results[eph]).toMatchObject({ ok: true, value: 'pong' });
    expect(rep.steps[1]!.status).toBe('aborted');
    expect(rep.hosts[eph]).toBe('cancelled');
    expect(await waitFor(async () => (await ephemeralsOf(eph)).length === 0, 3_000, 200), 'the ephemeral container outlived the run').toBe(
      true,
    );
  }, 90_000);
});
