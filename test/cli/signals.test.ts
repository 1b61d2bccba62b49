/**
 * docs/cli.md#signals: SIGINT / SIGTERM while steps run on several local hosts. No new work starts, work in
 * flight is stopped (the remote processes are gone), temporary files are removed, the report is
 * still written, and the exit code is 130 / 143. A second SIGINT exits at once.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FIXTURES,
  cleanup,
  ensureBuilt,
  findNamed,
  processesMatching,
  readReport,
  startCli,
  tempDir,
  waitFor,
  writePlaybook,
} from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => {
  cleanup(dir);
});

/** A sleep duration no other process on the machine uses, so the test can find its sleeps. */
function uniqueSleep(): string {
  return `30.${process.pid}${Math.floor(Math.random() * 1000)}`;
}

const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const LOCAL_HOSTS = HOSTS.map((h) => `  ${h}: local`).join('\n');

function sleepPlaybook(sleep: string, extraStep = ''): string {
  return `version: 1
hosts:
${LOCAL_HOSTS}
steps:
  - call: shell
    args: { cmd: 'sleep ${sleep}' }
  - call: shell
    args: { cmd: 'touch ${dir}/second-step-{host}' }
${extraStep}`;
}

/** Local hosts whose `cat` sleeps first (a unique sleep, to find its processes), so a transfer is in flight. */
function slowCatHosts(dir: string): { stall: string; hostsYaml: string } {
  const bin = join(dir, 'slowbin');
  mkdirSync(bin);
  const stall = uniqueSleep();
  // Transfers stream through tee (cat where a host lacks mkfifo): both stall before the first byte.
  for (const tool of ['cat', 'tee']) {
    writeFileSync(join(bin, tool), `#!/bin/sh\nsleep ${stall}\nexec /usr/bin/${tool} "$@"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  const hostsYaml = HOSTS.map((h) => `  ${h}: { transport: local, env: { PATH: "${bin}:/usr/local/bin:/usr/bin:/bin" } }`).join('\n');
  return { stall, hostsYaml };
}

describe('signals', () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig} while "sleep" runs on ${HOSTS.length} hosts: exit ${code} within seconds, report "interrupted", sleeps gone`, async () => {
      dir = tempDir();
      const sleep = uniqueSleep();
      const pb = writePlaybook(dir, sleepPlaybook(sleep));
      const report = join(dir, 'r.json');
      const { child, done } = startCli(['run', pb, '--json', report, '--output', 'plain'], { timeoutMs: 40_000 });
      expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length >= HOSTS.length, 15_000)).toBe(true);
      const sentAt = Date.now();
      child.kill(sig);
      const r = await done;
      const took = Date.now() - sentAt;
      expect(r.code, r.stderr).toBe(code);
      expect(took).toBeLessThan(5_000);
      expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
      const rep = readReport(report);
      expect(rep.status).toBe('interrupted');
      expect(rep.steps.map((s) => s.status)).toEqual(['aborted', 'not_run']);
      for (const h of HOSTS) {
        expect(rep.hosts[h]).toBe('cancelled');
        const res = rep.steps[0]!.results[h];
        expect(res && !res.ok && res.error.kind).toBe('cancelled');
        // No new work started after the signal.
        expect(existsSync(join(dir, `second-step-${h}`))).toBe(false);
      }
      // The screen says what stopped the step: the signal, not a failure policy.
      expect(r.stdout).toContain('step 1 was stopped by the interrupt');
      expect(r.stdout).not.toContain('aborted the run');
      // Both steps list every host: the second as never reached.
      expect(rep.steps[1]!.targets).toEqual(HOSTS);
    });
  }

  it('SIGINT during finally: hosts that had failed stay failed, not cancelled', async () => {
    dir = tempDir();
    const sleep = uniqueSleep();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
${LOCAL_HOSTS}
steps:
  - call: shell
    args: { cmd: 'case {host} in h1|h2) exit 1;; esac' }
finally:
  - call: shell
    args: { cmd: 'sleep ${sleep}' }
`,
    );
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report, '--output', 'plain'], { timeoutMs: 40_000 });
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length >= HOSTS.length, 15_000)).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const rep = readReport(report);
    expect(rep.hosts).toEqual({ h1: 'failed', h2: 'failed', h3: 'cancelled', h4: 'cancelled' });
    expect(r.stdout).toMatch(/run interrupted: 0 ok, 2 failed, 0 unreachable, 2 cancelled/);
  });

  it('SIGTERM during a put removes the remote temporary files and still writes the report', async () => {
    dir = tempDir();
    // A `cat` that stalls, so the upload is in flight (its temp file made) when the signal comes.
    const { stall, hostsYaml } = slowCatHosts(dir);
    writeFileSync(join(dir, 'payload.txt'), 'payload\n'.repeat(1000));
    const dest = join(dir, 'dest');
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
${hostsYaml}
steps:
  - put: payload.txt
    to: ${dest}/{host}/
`,
    );
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report], { timeoutMs: 40_000 });
    expect(await waitFor(() => processesMatching(`sleep ${stall}`).length >= HOSTS.length, 15_000)).toBe(true);
    expect(findNamed(dest, '.chopsticks-tmp-').length).toBe(HOSTS.length);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).toBe(143);
    expect(findNamed(dest, '.chopsticks-tmp-')).toEqual([]);
    expect(processesMatching(`sleep ${stall}`)).toEqual([]);
    for (const h of HOSTS) expect(existsSync(join(dest, h, 'payload.txt'))).toBe(false);
    const rep = readReport(report);
    expect(rep.status).toBe('interrupted');
    expect(Object.values(rep.hosts)).toEqual(HOSTS.map(() => 'cancelled'));
  });

  it('SIGINT during a fetch leaves no local temporary file and no half file', async () => {
    dir = tempDir();
    const { stall, hostsYaml } = slowCatHosts(dir);
    writeFileSync(join(dir, 'remote.log'), 'log\n'.repeat(1000));
    const dest = join(dir, 'fetched');
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
${hostsYaml}
steps:
  - fetch: ${join(dir, 'remote.log')}
    to: ${dest}/{host}/remote.log
`,
    );
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report], { timeoutMs: 40_000 });
    expect(await waitFor(() => processesMatching(`sleep ${stall}`).length >= HOSTS.length, 15_000)).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(findNamed(dest, '.chopsticks-tmp-')).toEqual([]);
    for (const h of HOSTS) expect(existsSync(join(dest, h, 'remote.log'))).toBe(false);
    expect(processesMatching(`sleep ${stall}`)).toEqual([]);
    expect(readReport(report).status).toBe('interrupted');
  });

  it('a second SIGINT exits at once while cleanup is still going on', async () => {
    dir = tempDir();
    // The command ignores TERM, so stopping it waits for the kill grace period: a slow cleanup.
    const sleep = uniqueSleep();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
${LOCAL_HOSTS}
steps:
  - call: shell
    args: { cmd: "trap '' TERM INT; sleep ${sleep}" }
`,
    );
    // First, one SIGINT alone: cleanup takes a while (this is what the second SIGINT cuts short).
    {
      const { child, done } = startCli(['run', pb, '--json', join(dir, 'one.json')], { timeoutMs: 40_000 });
      expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length >= HOSTS.length, 15_000)).toBe(true);
      const t = Date.now();
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      expect(Date.now() - t).toBeGreaterThan(1_800);
      expect(readReport(join(dir, 'one.json')).status).toBe('interrupted');
    }
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 10_000)).toBe(true);
    {
      const { child, done } = startCli(['run', pb, '--json', join(dir, 'two.json')], { timeoutMs: 40_000 });
      expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length >= HOSTS.length, 15_000)).toBe(true);
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 200));
      const t = Date.now();
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      expect(Date.now() - t).toBeLessThan(1_500);
      // Still written: the report of what is known by then.
      const rep = readReport(join(dir, 'two.json'));
      expect(rep.status).toBe('interrupted');
      expect(rep.steps[0]!.status).toBe('aborted');
    }
    // Whatever the fast exit left behind must not run on for 30 s.
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 10_000)).toBe(true);
    // SIGTERM first (a supervisor), then Ctrl-C: the second signal still means "now".
    {
      const { child, done } = startCli(['run', pb, '--json', join(dir, 'three.json')], { timeoutMs: 40_000 });
      expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length >= HOSTS.length, 15_000)).toBe(true);
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      const t = Date.now();
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      expect(Date.now() - t).toBeLessThan(1_500);
      expect(readReport(join(dir, 'three.json')).status).toBe('interrupted');
    }
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 10_000)).toBe(true);
  });

  it('a custom callable that ignores the interrupt (and its timeout) does not keep the CLI alive', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
callables:
  stubborn: ${join(FIXTURES, 'callables', 'stubborn.mjs')}
hosts:
  a: local
  b: local
steps:
  - call: stubborn
    on: a
    timeout: 1s
  - call: stubborn
    on: b
`,
    );
    // Timed out: the run ends, and so does the process, though the callable's timer lives on.
    const t = Date.now();
    const r1 = await startCli(['run', pb, '--limit', 'a', '--json', join(dir, 'a.json')], { timeoutMs: 30_000 }).done;
    expect(r1.code, r1.stderr).toBe(2);
    expect(Date.now() - t).toBeLessThan(8_000);
    expect(readReport(join(dir, 'a.json')).steps[0]!.results.a).toMatchObject({ ok: false, error: { kind: 'timeout' } });
    // Interrupted: same.
    const { child, done } = startCli(['run', pb, '--limit', 'b', '--json', join(dir, 'b.json')], { timeoutMs: 30_000 });
    await new Promise((res) => setTimeout(res, 1_500));
    const sent = Date.now();
    child.kill('SIGINT');
    const r2 = await done;
    expect(r2.code, r2.stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(readReport(join(dir, 'b.json')).status).toBe('interrupted');
  });
});
