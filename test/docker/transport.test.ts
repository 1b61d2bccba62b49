import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HostError } from '../../src/errors.js';
import { createDockerTransport, reapStaleEphemeral } from '../../src/transports/docker/index.js';
import { controllerIdentity, createEphemeralContainer, pidStartTime } from '../../src/transports/docker/ephemeral.js';
import { runUrgentCleanups } from '../../src/transports/urgent-exit.js';
import type { DockerTransport } from '../../src/transports/docker/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import { describeIntegration } from '../support/integration.js';
import {
  dockerHost,
  dockerUnavailableReason,
  ensureTestImage,
  removeAllTestContainers,
  startTestContainer,
  testDocker,
} from '../support/docker.js';
import { collect, runArgv } from './helpers.js';

const reason = await dockerUnavailableReason();
const RUN_ID = `t${process.pid}`;
const CONTAINER = `chopsticks-test-transport-${process.pid}`;

async function rejection(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HostError);
    return err as HostError;
  }
  throw new Error('expected a rejection');
}

describeIntegration('docker transport', reason, () => {
  let t: DockerTransport;

  beforeAll(async () => {
    await ensureTestImage();
    await startTestContainer(CONTAINER);
    t = createDockerTransport(dockerHost('box', { container: CONTAINER }), { runId: RUN_ID });
    await t.connect();
  });

  afterAll(async () => {
    await (t as DockerTransport | undefined)?.close();
    await removeAllTestContainers();
  });

  it('passes argv byte for byte, shell metacharacters included', async () => {
    const args = ['a b', '$HOME', '`id`', '$(id)', `'"\\`, '; rm -rf /tmp', '*', 'x\ny', '', 'ünïcødé ☃', '--', '-n'];
    const r = await runArgv(t, ['printf', '[%s]', ...args]);
    expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
    expect(r.code).toBe(0);
  });

  it('delivers stdin and then EOF (cat ends)', async () => {
    const r = await runArgv(t, ['cat'], 'hello\nworld');
    expect(r.stdout).toBe('hello\nworld');
    expect(r.code).toBe(0);
  });

  it('gives EOF to a process whose stdin is closed without data', async () => {
    const r = await runArgv(t, ['wc', '-c']);
    expect(r.stdout.trim()).toBe('0');
  });

  it('streams 8 MiB of binary through cat unchanged, with separate stderr', async () => {
    const data = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const p = t.spawn(['sh', '-c', 'cat; echo done >&2']);
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    p.stdin.end(data);
    const [exit, stdout, stderr] = await Promise.all([p.exit, out, err]);
    expect(exit.code).toBe(0);
    expect(stdout.length).toBe(data.length);
    expect(createHash('sha1').update(stdout).digest('hex')).toBe(createHash('sha1').update(data).digest('hex'));
    expect(stderr.toString()).toBe('done\n');
  });

  it('holds the stream back while stdout is not read (memory stays bounded)', async () => {
    const p = t.spawn(['head', '-c', String(32 * 1024 * 1024), '/dev/zero']);
    p.stdin.end();
    p.stderr.resume();
    await new Promise((r) => setTimeout(r, 800));
    // Nothing read yet: only a few buffers' worth may sit in memory, not 32 MiB.
    expect(p.stdout.readableLength + (p.stdout as unknown as { writableLength: number }).writableLength).toBeLessThan(1024 * 1024);
    const all = await collect(p.stdout);
    expect(all.length).toBe(32 * 1024 * 1024);
    expect((await p.exit).code).toBe(0);
  });

  it('reports exit codes and keeps stdout and stderr apart', async () => {
    expect((await runArgv(t, ['true'])).code).toBe(0);
    expect((await runArgv(t, ['false'])).code).toBe(1);
    const r = await runArgv(t, ['sh', '-c', 'echo out; echo err >&2; exit 42']);
    expect(r).toEqual({ code: 42, signal: null, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reports a missing program as exit 126/127 from docker, not a transport error', async () => {
    const r = await runArgv(t, ['/no/such/program']);
    expect([126, 127]).toContain(r.code);
  });

  it('kill() stops the process inside the container and settles exit', async () => {
    const p = t.spawn(['sleep', '417']);
    p.stdin.end();
    await new Promise((r) => setTimeout(r, 300));
    p.kill();
    const exit = await p.exit;
    expect(exit.code).toBeNull();
    // The process really is gone (the engine is local, so the transport signalled it).
    await new Promise((r) => setTimeout(r, 200));
    const ps = await runArgv(t, ['ps', '-o', 'args']);
    expect(ps.stdout).not.toContain('sleep 417');
  });

  it('an aborted signal rejects exit with cancelled', async () => {
    const ac = new AbortController();
    const p = t.spawn(['sleep', '418'], { signal: ac.signal });
    p.stdin.end();
    setTimeout(() => ac.abort(), 200);
    const err = await rejection(p.exit);
    expect(err.kind).toBe('cancelled');
  });

  it('runs every exec as the host become user', async () => {
    const asNobody = createDockerTransport(dockerHost('box-nobody', { container: CONTAINER, become: 'nobody' }), { runId: RUN_ID });
    await asNobody.connect();
    expect(asNobody.execUser).toBe('nobody');
    expect((await runArgv(asNobody, ['id', '-un'])).stdout).toBe('nobody\n');
    expect((await runArgv(t, ['id', '-un'])).stdout).toBe('root\n');
    await asNobody.close();
  });

  it('a session over it becomes that user without sudo (the image has none), env values included', async () => {
    const asNobody = createDockerTransport(dockerHost('box-nobody', { container: CONTAINER, become: 'nobody' }), { runId: RUN_ID });
    const s = await openSession(asNobody, { name: 'box-nobody' }, { defaultBecome: 'nobody' });
    try {
      const r = await s.run(['sh', '-c', 'id -un; printf "%s" "$X"'], { env: { X: 'x y' } });
      expect(r).toEqual({ rc: 0, stdout: 'nobody\nx y', stderr: '' });
    } finally {
      await s.close();
    }
  });

  it('a put that must become another user on an image without sudo says why it failed', async () => {
    const asNobody = createDockerTransport(dockerHost('box-nobody', { container: CONTAINER, become: 'nobody' }), { runId: RUN_ID });
    const s = await openSession(asNobody, { name: 'box-nobody' }, { defaultBecome: 'nobody' });
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-put-'));
    try {
      writeFileSync(join(dir, 'f.txt'), 'x');
      const err = await rejection(s.put(join(dir, 'f.txt'), '/tmp/chopsticks-become.txt', 0o644, { become: 'root' }));
      expect(err.message).toMatch(/become: root needs sudo on the host, and box-nobody has none/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await s.close();
    }
  });

  it('missing container is unreachable with a clear message', async () => {
    const tr = createDockerTransport(dockerHost('ghost', { container: 'chopsticks-no-such-container' }), { runId: RUN_ID });
    const err = await rejection(tr.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/^ghost: container chopsticks-no-such-container does not exist/);
  });

  it('stopped container is unreachable and says how to start it', async () => {
    const name = `${CONTAINER}-stopped`;
    const c = await startTestContainer(name);
    await c.stop({ t: 1 });
    const tr = createDockerTransport(dockerHost('sleepy', { container: name }), { runId: RUN_ID });
    const err = await rejection(tr.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`sleepy: container ${name} is not running; start it with docker start ${name}`);
  });

  it('engine down (dead socket path) is unreachable and asks whether dockerd runs', async () => {
    const tr = createDockerTransport(dockerHost('far', { container: 'x', docker_host: 'unix:///tmp/chopsticks-no-engine.sock' }), {
      runId: RUN_ID,
    });
    const err = await rejection(tr.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/^far: Docker engine at unix:\/\/\/tmp\/chopsticks-no-engine\.sock is not answering: is dockerd running\?/);
  });

  it('an unsupported docker_host is unreachable with the accepted forms', async () => {
    const tr = createDockerTransport(dockerHost('odd', { container: 'x', docker_host: 'npipe:////./pipe/docker' }), { runId: RUN_ID });
    const err = await rejection(tr.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('tcp://HOST:PORT');
  });

  it('a container killed mid-command gives connection_lost and onLost', async () => {
    const name = `${CONTAINER}-doomed`;
    await startTestContainer(name);
    const tr = createDockerTransport(dockerHost('doomed', { container: name }), { runId: RUN_ID });
    const lost: Error[] = [];
    tr.onLost = (e) => lost.push(e);
    await tr.connect();
    const p = tr.spawn(['sh', '-c', 'echo started; sleep 300']);
    p.stdin.end();
    const out = collect(p.stdout);
    await new Promise((r) => setTimeout(r, 300));
    execFileSync('docker', ['kill', name]);
    const err = await rejection(p.exit);
    expect(err.kind).toBe('connection_lost');
    expect(err.message).toMatch(/^doomed: container .* (stopped|removed)/);
    expect((await out).toString()).toBe('started\n');
    expect(lost).toHaveLength(1);
    await tr.close();
  });

  it('ephemeral: created labelled, usable, removed by close (idempotent)', async () => {
    const tr = createDockerTransport(dockerHost('scratch', { image: await ensureTestImage(), ephemeral: true }), { runId: RUN_ID });
    await tr.connect();
    const id = tr.containerId!;
    const info = await testDocker().getContainer(id).inspect();
    expect(info.Config.Labels).toMatchObject({
      'chopsticks.ephemeral': '1',
      'chopsticks.run': RUN_ID,
      'chopsticks.pid': String(process.pid),
      'chopsticks.host': 'scratch',
    });
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.State.Running).toBe(true);
    expect((await runArgv(tr, ['cat', '/etc/os-release'])).stdout).toContain('ID=busybox');
    await Promise.all([tr.close(), tr.close()]);
    await tr.close();
    const err = await testDocker()
      .getContainer(id)
      .inspect()
      .catch((e: unknown) => e);
    expect((err as { statusCode?: number }).statusCode).toBe(404);
  });

  it('ephemeral: a second Ctrl-C removes a container from the moment the engine is asked for it', async () => {
    const docker = testDocker();
    // The engine answers the create, but our side has not heard yet (the interrupt came first).
    let made: string | undefined;
    const slow = Object.create(docker) as typeof docker;
    slow.createContainer = async (o) => {
      const c = await docker.createContainer(o);
      made = c.id;
      await runUrgentCleanups(5000);
      return c;
    };
    const image = await ensureTestImage();
    await createEphemeralContainer(slow, { image, hostName: 'urgent', runId: RUN_ID, controllerPid: process.pid }).catch(() => undefined);
    expect(made).toBeDefined();
    const err = await docker
      .getContainer(made!)
      .inspect()
      .catch((e: unknown) => e);
    expect((err as { statusCode?: number }).statusCode).toBe(404);
  });

  it('ephemeral: an interrupt while the container is being made removes it', async () => {
    const docker = testDocker();
    const ac = new AbortController();
    let made: string | undefined;
    const interrupted = Object.create(docker) as typeof docker;
    interrupted.createContainer = async (o) => {
      ac.abort();
      const c = await docker.createContainer(o);
      made = c.id;
      return c;
    };
    const image = await ensureTestImage();
    await expect(
      createEphemeralContainer(interrupted, {
        image,
        hostName: 'interrupted',
        runId: RUN_ID,
        controllerPid: process.pid,
        abortSignal: ac.signal,
      }),
    ).rejects.toBeDefined();
    const left = await docker.listContainers({
      all: true,
      filters: { label: ['chopsticks.host=interrupted', `chopsticks.run=${RUN_ID}`] },
    });
    expect(left).toEqual([]);
    // The engine really made one: the test did not pass for want of a container.
    expect(made).toBeDefined();
  });

  it('ephemeral: a whole session (run, put, fetch) works and closing it removes the container', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-docker-'));
    try {
      const tr = createDockerTransport(dockerHost('scratch2', { image: await ensureTestImage(), ephemeral: true }), { runId: RUN_ID });
      const s = await openSession(tr, { name: 'scratch2', vars: {} });
      const id = tr.containerId!;
      writeFileSync(join(dir, 'a.txt'), 'payload\n');
      const put = await s.put(join(dir, 'a.txt'), '/srv/app/', 0o600);
      expect(put).toMatchObject({ remote_path: '/srv/app/a.txt', size: 8, changed: true });
      expect((await s.run(['stat', '-c', '%a', '/srv/app/a.txt'])).stdout).toBe('600\n');
      const got = await s.fetch('/srv/app/a.txt', join(dir, 'back.txt'));
      expect(readFileSync(got.local_path, 'utf8')).toBe('payload\n');
      await s.close();
      const gone = await testDocker()
        .getContainer(id)
        .inspect()
        .catch((e: unknown) => e);
      expect((gone as { statusCode?: number }).statusCode).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ephemeral with an image that is not there is unreachable and names the image', async () => {
    const tr = createDockerTransport(dockerHost('noimg', { image: 'chopsticks-test:no-such-tag', ephemeral: true }), { runId: RUN_ID });
    const err = await rejection(tr.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('image chopsticks-test:no-such-tag is not on the Docker engine');
    await tr.close();
  });

  const dead = spawnSync('true').pid; // exited: its pid is (almost surely) free now
  const me = controllerIdentity()!;
  const mkLabelled = async (pid: number, over: Record<string, string | undefined> = {}) => {
    const labels: Record<string, string | undefined> = {
      'chopsticks.ephemeral': '1',
      'chopsticks.pid': String(pid),
      'chopsticks.run': 'old',
      'chopsticks.host': 'h',
      'chopsticks.controller': hostname(),
      'chopsticks.machine_id': me.machineId,
      'chopsticks.boot_id': me.bootId,
      'chopsticks.pid_start': pidStartTime(pid) ?? '12345',
      'chopsticks.test': '1',
      ...over,
    };
    const c = await testDocker().createContainer({
      Image: await ensureTestImage(),
      Entrypoint: ['sleep', '600'],
      Labels: Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => e[1] !== undefined)),
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    return c;
  };

  it('reaps only what a dead run of this machine left: other machines, live runs and unlabelled ones are kept', async () => {
    const docker = testDocker();
    const made = {
      stale: await mkLabelled(dead, { 'chopsticks.pid_start': '1' }),
      earlierBoot: await mkLabelled(process.pid, { 'chopsticks.boot_id': 'an-earlier-boot' }),
      reusedPid: await mkLabelled(process.pid, { 'chopsticks.pid_start': '1' }),
      live: await mkLabelled(process.pid),
      otherMachine: await mkLabelled(dead, { 'chopsticks.machine_id': 'another-machine-sharing-the-engine' }),
      oldStyle: await mkLabelled(dead, {
        'chopsticks.machine_id': undefined,
        'chopsticks.boot_id': undefined,
        'chopsticks.pid_start': undefined,
      }),
    };
    try {
      const removed = await reapStaleEphemeral(docker);
      expect(removed).toEqual(expect.arrayContaining([made.stale.id, made.earlierBoot.id, made.reusedPid.id]));
      for (const kept of [made.live, made.otherMachine, made.oldStyle]) {
        expect(removed).not.toContain(kept.id);
        expect((await kept.inspect()).State.Running).toBe(true);
      }
    } finally {
      for (const c of Object.values(made)) await c.remove({ force: true }).catch(() => undefined);
    }
  }, 90_000);

  it('an ephemeral container carries the identity labels of its controller', async () => {
    const tr = createDockerTransport(dockerHost('ident', { image: await ensureTestImage(), ephemeral: true }), { runId: RUN_ID });
    await tr.connect();
    try {
      const labels = (await testDocker().getContainer(tr.containerId!).inspect()).Config.Labels;
      expect(labels).toMatchObject({
        'chopsticks.machine_id': me.machineId,
        'chopsticks.boot_id': me.bootId,
        'chopsticks.pid': String(process.pid),
        'chopsticks.pid_start': pidStartTime(process.pid),
      });
    } finally {
      await tr.close();
    }
  });

  it('connect reaps stale ephemeral containers once per engine', async () => {
    const stale = await mkLabelled(dead, { 'chopsticks.pid_start': '1' });
    try {
      // Another spelling of the same socket is another engine key, so reaping runs again here.
      const tr = createDockerTransport(dockerHost('reaper', { container: CONTAINER, docker_host: 'unix:///run/docker.sock' }), {
        runId: RUN_ID,
      });
      await tr.connect();
      const err = await stale.inspect().catch((e: unknown) => e);
      expect((err as { statusCode?: number }).statusCode).toBe(404);
      await tr.close();
    } finally {
      await stale.remove({ force: true }).catch(() => undefined);
    }
  });
});
