/**
 * Docker engine + test image for integration tests. The engine is whatever answers at
 * DOCKER_HOST or /var/run/docker.sock (.ci/run or the developer starts it); the image is
 * built locally by scripts/make-test-image.sh, no registry needed.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
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
export async function startTestContainer(name: string, opts: { image?: string; binds?: string[] } = {}): Promise<Docker.Container> {
  const docker = testDocker();
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  const c = await docker.createContainer({
    name,
    Image: opts.image ?? (await ensureTestImage()),
    Entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
    Labels: { [TEST_LABEL]: '1' },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', Binds: opts.binds },
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

export interface PrivateEngine {
  /** `unix:///...` URL of the engine's socket. */
  url: string;
  pid: number;
  /** SIGTERM (containers stop), wait for exit, remove its folders. Idempotent. */
  stop(): Promise<void>;
}

/** Why a private engine (to kill during a test) cannot be started here, or undefined. */
export function privateEngineUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'starting a private dockerd needs root';
  const found = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
  return found ? undefined : 'dockerd is not installed (apt-get install -y docker.io)';
}

/**
 * A throwaway Docker engine of the test's own, so a test can stop it without touching the
 * shared one. Own data root (on the same filesystem as /var/lib/docker, where overlay2 works),
 * exec root, pidfile and socket; the test image is imported into it.
 */
export async function startPrivateEngine(tag: string): Promise<PrivateEngine> {
  const base = `/var/lib/chopsticks-test-engine-${tag}-${process.pid}`;
  const execRoot = `/run/chopsticks-test-engine-${tag}-${process.pid}`;
  const socket = `${base}/docker.sock`;
  mkdirSync(base, { recursive: true });
  const log = openSync(`${base}/dockerd.log`, 'a');
  const child = spawn(
    'dockerd',
    [
      '--iptables=false',
      '--bridge=none',
      `--data-root=${base}/data`,
      `--exec-root=${execRoot}`,
      `--pidfile=${base}/dockerd.pid`,
      '-H',
      `unix://${socket}`,
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  closeSync(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(base, { recursive: true, force: true });
      rmSync(execRoot, { recursive: true, force: true });
    })());
  const url = `unix://${socket}`;
  try {
    const docker = new Docker({ socketPath: socket });
    for (let i = 0; ; i++) {
      try {
        await docker.ping();
        break;
      } catch (err) {
        if (i > 120 || child.exitCode !== null)
          throw new Error(`private dockerd did not start (see ${base}/dockerd.log): ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await run('sh', [SCRIPT, TEST_IMAGE], { timeout: 120_000, env: { ...process.env, DOCKER_HOST: url } });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}
