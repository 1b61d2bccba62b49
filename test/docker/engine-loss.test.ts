/**
 * The engine itself going away mid-command (dockerd stopped or crashed): running processes
 * fail with connection_lost and the session is told through onLost. Uses a private engine so
 * the shared one is never stopped.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import Docker from 'dockerode';
import { HostError } from '../../src/errors.js';
import { createDockerTransport } from '../../src/transports/docker/index.js';
import { describeIntegration } from '../support/integration.js';
import { dockerHost, dockerUnavailableReason, privateEngineUnavailableReason, startPrivateEngine, TEST_IMAGE } from '../support/docker.js';
import type { PrivateEngine } from '../support/docker.js';
import { collect } from './helpers.js';

const reason = (await dockerUnavailableReason()) ?? privateEngineUnavailableReason();

describeIntegration('docker transport: engine lost', reason, () => {
  let engine: PrivateEngine;

  beforeAll(async () => {
    engine = await startPrivateEngine('loss');
    const docker = new Docker({ socketPath: engine.url.slice('unix://'.length) });
    const c = await docker.createContainer({
      name: 'victim',
      Image: TEST_IMAGE,
      Entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
  }, 120_000);

  afterAll(async () => {
    await (engine as typeof engine | undefined)?.stop();
  }, 60_000);

  it('a running command fails with connection_lost and onLost fires when dockerd stops', async () => {
    const t = createDockerTransport(dockerHost('victim', { container: 'victim', docker_host: engine.url }), { runId: 'loss' });
    const lost: Error[] = [];
    t.onLost = (e) => lost.push(e);
    await t.connect();
    const p = t.spawn(['sh', '-c', 'echo started; sleep 300']);
    p.stdin.end();
    const out = collect(p.stdout);
    p.stdout.once('data', () => void engine.stop());
    let err: unknown;
    await p.exit.catch((e: unknown) => (err = e));
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).kind).toBe('connection_lost');
    expect((err as HostError).message).toMatch(
      /^victim: (lost the Docker engine at unix:\/\/.* is dockerd still running\?|container victim stopped)/,
    );
    expect((await out).toString()).toBe('started\n');
    expect(lost).toHaveLength(1);
    // With the engine gone, a new connect says so plainly.
    await engine.stop();
    const again = createDockerTransport(dockerHost('victim', { container: 'victim', docker_host: engine.url }), { runId: 'loss' });
    const e2 = await again.connect().catch((e: unknown) => e);
    expect((e2 as HostError).kind).toBe('unreachable');
    expect((e2 as HostError).message).toContain('is not answering: is dockerd running?');
    await t.close();
  }, 60_000);
});
