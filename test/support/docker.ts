/**
 * Docker engine + test image for integration tests. The engine is whatever answers at
 * DOCKER_HOST or /var/run/docker.sock (.ci/run or the developer starts it); the image is
 * built locally by scripts/make-test-image.sh, no registry needed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { dockerodeOptions, parseDockerEndpoint } from '../../src/transports/docker/endpoint.js';
import type { DockerHost } from '../../src/model/playbook.js';

const run = promisify(execFile);

export const TEST_IMAGE = 'chopsticks-test:busybox';
export const TEST_LABEL = 'chopsticks.test';
const SCRIPT = fileURLToPath(new URL('../../scripts/make-test-image.sh', import.meta.url));

export function testDocker(): Docker {
  const parsed = parseDockerEndpoint(undefined);
  if (!parsed.ok) throw new Error(parsed.message);
  return new Docker(dockerodeOptions(parsed.endpoint));
}

/** Why Docker tests cannot run here, or undefined when the engine answers. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const parsed = parseDockerEndpoint(undefined);
  if (!parsed.ok) return parsed.message;
  const ep = parsed.endpoint;
  if (ep.kind === 'unix' && !existsSync(ep.socketPath)) return `no Docker socket at ${ep.socketPath} (start dockerd)`;
  try {
    await (testDocker().ping as unknown as (o: object) => Promise<unknown>)({ abortSignal: AbortSignal.timeout(5000) });
  } catch (err) {
    return `Docker engine at ${ep.url} is not answering: ${(err as Error).message}`;
  }
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
  } catch {
    return 'the docker CLI is missing or cannot reach the engine (needed to build the test image)';
  }
  return undefined;
}

let imagePromise: Promise<string> | undefined;

/** Builds (or finds) the busybox test image, once per test process. */
export function ensureTestImage(): Promise<string> {
  imagePromise ??= run('sh', [SCRIPT, TEST_IMAGE], { timeout: 120_000 }).then((r) => r.stdout.trim());
  return imagePromise;
}

const started = new Set<string>();

/** Starts a named, labelled test container that idles until removed. */
export async function startTestContainer(name: string, opts: { image?: string } = {}): Promise<Docker.Container> {
  const docker = testDocker();
  await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  const c = await docker.createContainer({
    name,
    Image: opts.image ?? (await ensureTestImage()),
    Entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
    Labels: { [TEST_LABEL]: '1' },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none' },
  });
  started.add(name);
  await c.start();
  return c;
}

export async function removeTestContainer(name: string): Promise<void> {
  started.delete(name);
  await testDocker()
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
}

/** For afterAll: removes every container this process started. */
export async function removeAllTestContainers(): Promise<void> {
  await Promise.all([...started].map((n) => removeTestContainer(n)));
}

/** A DockerHost as the validator would produce it. */
export function dockerHost(name: string, fields: Partial<DockerHost>): DockerHost {
  return {
    name,
    transport: 'docker',
    vars: {},
    ephemeral: false,
    pos: { file: 'test.yaml', line: 1, col: 1 },
    ...fields,
  };
}
