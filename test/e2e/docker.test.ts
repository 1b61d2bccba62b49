/**
 * The CLI against a real Docker engine: two existing test containers and one ephemeral one
 * made from the busybox test image. Checks what a user would: exit codes, reports, files in
 * the containers, and that no ephemeral container outlives its run (ok, failed or SIGINT).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { dockerUnavailableReason, ensureTestImage, removeAllTestContainers, startTestContainer, TEST_IMAGE } from '../support/docker.js';
import { assertReportValid, ensureBuilt, explain, runPlaybook, sha1File, tempDir, writePlaybook, writeRandomFile } from './cli.js';
import { literal, METACHAR_ARGS, METACHAR_STRING } from './metachars.js';

const run = promisify(execFile);
const reason = await dockerUnavailableReason();

function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

async function dockerExec(container: string, argv: string[]): Promise<string> {
  return (await run('docker', ['exec', container, ...argv], { encoding: 'utf8' })).stdout;
}

/** Ephemeral containers made for playbook host `hostName` (names are unique per test). */
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

async function processesIn(container: string): Promise<string> {
  return (await run('docker', ['top', container, '-o', 'pid,args'], { encoding: 'utf8' })).stdout;
}

const ephemeral = { transport: 'docker', image: TEST_IMAGE, ephemeral: true };

describeIntegration('e2e: chopsticks run over a real Docker engine', reason, () => {
  const c1 = uniq('chopsticks-e2e-d1');
  const c2 = uniq('chopsticks-e2e-d2');

  beforeAll(async () => {
    ensureBuilt();
    await ensureTestImage();
    await Promise.all([startTestContainer(c1), startTestContainer(c2)]);
    await dockerExec(c1, ['touch', '/marker']);
  }, 120_000);
  afterAll(async () => {
    await removeAllTestContainers();
  });

  it('call, filter, put and fetch on two existing containers and one ephemeral; the ephemeral is gone after', async () => {
    const dir = tempDir();
    const eph = uniq('eph');
    writeRandomFile(join(dir, 'blob.bin'), 3 * 1024 * 1024 + 17, 11);
    const localSha = await sha1File(join(dir, 'blob.bin'));
    const file = writePlaybook(dir, {
      version: 1,
      hosts: { d1: `docker://${c1}`, d2: { transport: 'docker', container: c2 }, [eph]: ephemeral },
      groups: { existing: ['d1', 'd2'] },
      steps: [
        { call: 'command', args: { argv: ['cat', '/etc/hostname'] }, register: 'hn' },
        { call: 'facts.os' },
        { filter: 'test', args: { cmd: 'test -e /marker' }, as: 'marked' },
        { put: 'blob.bin', to: '/srv/drop/', mode: '0600' },
        { put: 'blob.bin', to: '/srv/drop/', mode: '0600', on: 'all - marked' },
        { fetch: '/srv/drop/blob.bin', to: 'fetched/{host}.bin' },
        { call: 'command', args: { argv: ['stat', '-c', '%a %s', '/srv/drop/blob.bin'] }, on: 'existing' },
      ],
    });
    const r = await runPlaybook(file);
    expect(r.code, explain(r)).toBe(0);
    const rep = r.report!;
    assertReportValid(r);
    expect(rep.hosts).toEqual({ d1: 'ok', d2: 'ok', [eph]: 'ok' });
    expect(rep.groups.marked).toEqual(['d1']);
    const [hn, os, , put, put2, fetch, st] = rep.steps;
    // The ephemeral host is a container of its own: not one of the two test containers.
    const names = ['d1', 'd2', eph].map((h) => JSON.stringify(hn!.results[h]));
    expect(new Set(names).size).toBe(3);
    for (const h of ['d1', 'd2', eph]) {
      expect(os!.results[h]).toMatchObject({ ok: true });
      expect(put!.results[h]).toMatchObject({
        ok: true,
        changed: true,
        value: { remote_path: '/srv/drop/blob.bin', size: 3 * 1024 * 1024 + 17, sha1sum: localSha },
      });
      expect(fetch!.results[h]).toMatchObject({ ok: true, value: { local_path: join(dir, 'fetched', `${h}.bin`), sha1sum: localSha } });
      expect(await sha1File(join(dir, 'fetched', `${h}.bin`))).toBe(localSha);
    }
    // Second put of the same file to the unmarked hosts: nothing to do.
    expect(put2!.targets).toEqual(['d2', eph]);
    for (const h of ['d2', eph]) expect(put2!.results[h]).toMatchObject({ ok: true, changed: false, value: { changed: false } });
    for (const h of ['d1', 'd2']) expect(st!.results[h]).toMatchObject({ ok: true, value: { stdout: `600 ${3 * 1024 * 1024 + 17}\n` } });
    expect((await dockerExec(c2, ['sha1sum', '/srv/drop/blob.bin'])).split(' ')[0]).toBe(localSha);
    expect(await ephemeralsOf(eph)).toEqual([]);
  }, 120_000);

  it('argv with shell metacharacters arrives byte for byte through `command`', async () => {
    const dir = tempDir();
    const eph = uniq('eph');
    const file = writePlaybook(dir, {
      version: 1,
      hosts: { d1: `docker://${c1}`, [eph]: ephemeral },
      steps: [
        { call: 'command', args: { argv: ['printf', '%s', literal(METACHAR_STRING)] } },
        {
          call: 'command',
          args: {
            argv: [
              'sh',
              '-c',
              'for a in "$@"; do printf "%s" "$a" | od -An -v -tx1 | tr -d " \\n"; echo; done',
              'sh',
              ...METACHAR_ARGS.map(literal),
            ],
          },
        },
        { call: 'command', args: { argv: ['cat'], stdin: literal(METACHAR_STRING) } },
      ],
    });
    const r = await runPlaybook(file);
    expect(r.code, explain(r)).toBe(0);
    const [printf, hex, stdin] = r.report!.steps;
    const wantHex = METACHAR_ARGS.map((a) => `${Buffer.from(a, 'utf8').toString('hex')}\n`).join('');
    for (const h of ['d1', eph]) {
      expect(printf!.results[h]).toMatchObject({ ok: true, value: { stdout: METACHAR_STRING, rc: 0 } });
      expect(hex!.results[h]).toMatchObject({ ok: true, value: { stdout: wantHex } });
      expect(stdin!.results[h]).toMatchObject({ ok: true, value: { stdout: METACHAR_STRING } });
    }
    expect(await ephemeralsOf(eph)).toEqual([]);
  }, 60_000);

  it('a failing run (exit 2) removes its ephemeral container too', async () => {
    const dir = tempDir();
    const eph = uniq('eph');
    const file = writePlaybook(dir, {
      version: 1,
      hosts: { d2: `docker://${c2}`, [eph]: ephemeral },
      steps: [{ call: 'command', args: { argv: ['sh', '-c', 'echo doomed >&2; exit 7'] }, on: eph }, { call: 'ping' }],
    });
    const r = await runPlaybook(file);
    expect(r.code, explain(r)).toBe(2);
    const rep = r.report!;
    assertReportValid(r);
    expect(rep.status).toBe('failed');
    expect(rep.hosts).toEqual({ d2: 'ok', [eph]: 'failed' });
    const res = rep.steps[0]!.results[eph]!;
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.kind).toBe('failed');
      expect(res.error.msg).toContain(eph);
    }
    expect(r.stdout + r.stderr).toContain('doomed');
    expect(await ephemeralsOf(eph)).toEqual([]);
  }, 60_000);

  it('SIGINT mid-step: exit 130, the in-flight command stopped, report written, the ephemeral removed', async () => {
    const dir = tempDir();
    const eph = uniq('eph');
    const marker = `chopsticks-e2e-sleep-${randomBytes(4).toString('hex')}`;
    const file = writePlaybook(dir, {
      version: 1,
      hosts: { d1: `docker://${c1}`, [eph]: ephemeral },
      steps: [
        // A recognisable sleep: MARKER is the shell's $0, shown by `docker top` (the `; true`
        // keeps the shell from exec'ing sleep in its place).
        { call: 'command', args: { argv: ['sh', '-c', 'sleep 30; true', marker] } },
        { call: 'ping' },
      ],
    });
    let sentAt = 0;
    const r = await runPlaybook(file, [], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        // One probe at a time: overlapping async probes could each see the sleeps and send
        // SIGINT twice, and a second SIGINT means "exit at once", not what this test checks.
        let probing = false;
        const t = setInterval(
          () =>
            void (async () => {
              if (probing || sentAt) return;
              probing = true;
              try {
                const [top, ephs] = await Promise.all([processesIn(c1).catch(() => ''), ephemeralsOf(eph)]);
                if (sentAt || !top.includes(marker) || ephs.length !== 1) return;
                if (!(await processesIn(ephs[0]!).catch(() => '')).includes(marker)) return;
                if (sentAt) return;
                clearInterval(t);
                sentAt = performance.now();
                child.kill('SIGINT');
              } finally {
                probing = false;
              }
            })(),
          100,
        );
        child.once('exit', () => clearInterval(t));
      },
    });
    expect(sentAt, 'the sleep never started in both containers').toBeGreaterThan(0);
    expect(r.code, explain(r)).toBe(130);
    const rep = r.report!;
    assertReportValid(r);
    expect(rep.status).toBe('interrupted');
    expect(rep.steps[1]!.status).toBe('not_run');
    for (const h of ['d1', eph]) {
      const res = rep.steps[0]!.results[h];
      expect(res?.ok).toBe(false);
      if (res && !res.ok) expect(res.error.kind).toBe('cancelled');
    }
    // Stopped, not waited for: well under the 30 s sleep.
    expect(r.wallMs).toBeLessThan(25_000);
    expect(await processesIn(c1)).not.toContain(marker);
    expect(await ephemeralsOf(eph)).toEqual([]);
  }, 90_000);

  it('a container killed mid-step: connection_lost, exit 2', async () => {
    const victim = uniq('chopsticks-e2e-victim');
    await startTestContainer(victim);
    const dir = tempDir();
    const marker = `chopsticks-e2e-sleep-${randomBytes(4).toString('hex')}`;
    const file = writePlaybook(dir, {
      version: 1,
      hosts: { victim: `docker://${victim}`, bystander: `docker://${c2}` },
      steps: [{ call: 'command', args: { argv: ['sh', '-c', 'sleep 30; true', marker] }, on: 'victim' }, { call: 'ping' }],
    });
    let killed = false;
    const r = await runPlaybook(file, [], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        let probing = false;
        const t = setInterval(
          () =>
            void (async () => {
              if (probing || killed) return;
              probing = true;
              const seen = (await processesIn(victim).catch(() => '')).includes(marker);
              probing = false;
              if (!seen) return;
              killed = true;
              clearInterval(t);
              await run('docker', ['kill', victim]);
            })(),
          100,
        );
        child.once('exit', () => clearInterval(t));
      },
    });
    expect(killed, 'the sleep never started').toBe(true);
    expect(r.code, explain(r)).toBe(2);
    const rep = r.report!;
    assertReportValid(r);
    const res = rep.steps[0]!.results.victim!;
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.kind).toBe('connection_lost');
      expect(res.error.msg).toContain('victim');
    }
    expect(rep.hosts).toEqual({ victim: 'unreachable', bystander: 'ok' });
    expect(r.wallMs).toBeLessThan(25_000);
  }, 90_000);
});
