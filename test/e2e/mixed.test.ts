/**
 * ONE playbook over all three transports at once: two ssh hosts on a real sshd, an existing
 * and an ephemeral container on a real Docker engine, and a local host, with groups that mix
 * them and set algebra over hosts, filter groups and registered outcomes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_USER, type SshdHandle } from '../support/sshd.js';
import { dockerUnavailableReason, ensureTestImage, removeAllTestContainers, startTestContainer, TEST_IMAGE } from '../support/docker.js';
import { assertReportValid, ensureBuilt, explain, runPlaybook, sha1File, tempDir, writePlaybook, writeRandomFile } from './cli.js';

const run = promisify(execFile);
const reason = sshdUnavailableReason() ?? (await dockerUnavailableReason());

describeIntegration('e2e: one playbook over ssh, docker and local hosts', reason, () => {
  let sshd: SshdHandle;
  const container = `chopsticks-e2e-mixed-${process.pid}-${randomBytes(3).toString('hex')}`;
  const eph = `scratch-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    ensureBuilt();
    await ensureTestImage();
    [sshd] = await Promise.all([startSshd({ addresses: ['127.0.0.1', '127.0.0.2'] }), startTestContainer(container)]);
    await run('docker', ['exec', container, 'touch', '/marker']);
  }, 120_000);
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
    await removeAllTestContainers();
  });

  it('call, filter, put and fetch across mixed groups; exit 0 and a schema-valid report', async () => {
    const dir = tempDir();
    const known = join(dir, 'known_hosts');
    writeFileSync(known, sshd.addresses.map((a) => `${sshd.knownHostsLine(`[${a}]:${sshd.port}`)}\n`).join(''));
    const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }));
    const sshDest = (h: string) => {
      const d = tempDir(`chopsticks-e2e-${h}-`);
      chownSync(d, uid, uid);
      return d;
    };
    const localDest = tempDir('chopsticks-e2e-builder-');
    writeRandomFile(join(dir, 'app.bin'), 2 * 1024 * 1024 + 3, 5);
    const sha = await sha1File(join(dir, 'app.bin'));
    const ssh = (address: string, dest: string) => ({
      transport: 'ssh',
      host: address,
      port: sshd.port,
      user: sshd.user,
      identity_file: sshd.identityFile,
      known_hosts: known,
      vars: { dest },
    });
    const dests: Record<string, string> = {
      web1: sshDest('web1'),
      web2: sshDest('web2'),
      w1: '/srv/app',
      [eph]: '/srv/app',
      builder: localDest,
    };
    const file = writePlaybook(dir, {
      version: 1,
      name: 'mixed fleet',
      hosts: {
        web1: ssh('127.0.0.1', dests.web1!),
        web2: ssh('127.0.0.2', dests.web2!),
        w1: { transport: 'docker', container, vars: { dest: dests.w1! } },
        [eph]: { transport: 'docker', image: TEST_IMAGE, ephemeral: true, vars: { dest: dests[eph]! } },
        builder: { transport: 'local', vars: { dest: localDest } },
      },
      groups: {
        web: ['web1', 'web2'],
        workers: ['w1', eph],
        fleet: 'web | workers | builder',
        canary: 'web - web2',
      },
      steps: [
        { call: 'facts.os', on: 'fleet', register: 'os' },
        { filter: 'test', args: { cmd: 'command -v sha1sum' }, on: 'fleet', as: 'hashers' },
        { filter: 'test', args: { cmd: 'test -e /marker' }, on: 'workers', as: 'marked' },
        { put: 'app.bin', to: '{hostvars.dest}/', mode: '0644', on: 'fleet & hashers' },
        { fetch: '{hostvars.dest}/app.bin', to: 'back/{host}.bin', on: 'all - canary' },
        { call: 'command', args: { argv: ['sh', '-c', 'echo "hello from $0"', '{host}'] }, on: 'canary | marked', register: 'greet' },
        { call: 'ping', on: 'ok(greet) ^ workers' },
        { call: 'facts.which', args: { name: 'sh' }, on: "'w*' + builder - web2" },
      ],
    });

    const r = await runPlaybook(file);
    expect(r.code, explain(r)).toBe(0);
    assertReportValid(r);
    const rep = r.report!;
    const everyone = ['web1', 'web2', 'w1', eph, 'builder'];
    expect(rep.status).toBe('ok');
    expect(rep.hosts).toEqual(Object.fromEntries(everyone.map((h) => [h, 'ok'])));
    expect(rep.groups).toMatchObject({
      web: ['web1', 'web2'],
      workers: ['w1', eph],
      fleet: everyone,
      canary: ['web1'],
      hashers: everyone,
      marked: ['w1'],
    });
    const [os, hashers, marked, put, fetch, greet, ping, which] = rep.steps;
    expect(os!.targets).toEqual(everyone);
    expect(hashers!.targets).toEqual(everyone);
    expect(marked!.targets).toEqual(['w1', eph]);
    expect(put!.targets).toEqual(everyone);
    for (const h of everyone) {
      expect(put!.results[h]).toMatchObject({ ok: true, value: { remote_path: `${dests[h]}/app.bin`, sha1sum: sha, changed: true } });
    }
    expect(fetch!.targets).toEqual(['web2', 'w1', eph, 'builder']);
    for (const h of fetch!.targets) {
      expect(fetch!.results[h]).toMatchObject({ ok: true, value: { sha1sum: sha, local_path: join(dir, 'back', `${h}.bin`) } });
      expect(await sha1File(join(dir, 'back', `${h}.bin`))).toBe(sha);
    }
    expect(await sha1File(join(dests.web1!, 'app.bin'))).toBe(sha);
    expect(await sha1File(join(localDest, 'app.bin'))).toBe(sha);
    expect(greet!.targets).toEqual(['web1', 'w1']);
    expect(greet!.results.web1).toMatchObject({ ok: true, value: { stdout: 'hello from web1\n' } });
    expect(greet!.results.w1).toMatchObject({ ok: true, value: { stdout: 'hello from w1\n' } });
    // {web1, w1} ^ {w1, scratch}
    expect(ping!.targets).toEqual(['web1', eph]);
    expect(which!.targets).toEqual(['web1', 'w1', 'builder']);
    expect(r.stdout).toContain('run ok');
  }, 120_000);
});
