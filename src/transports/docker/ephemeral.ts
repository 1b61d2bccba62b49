/**
 * Containers made for one run (`image:` + `ephemeral: true`), and the clean-up of ones a
 * killed earlier run left behind. Labels say who made a container, so clean-up never
 * touches containers it did not make.
 */
import { hostname } from 'node:os';
import type Docker from 'dockerode';

export const LABEL_EPHEMERAL = 'chopsticks.ephemeral';
export const LABEL_RUN = 'chopsticks.run';
export const LABEL_PID = 'chopsticks.pid';
export const LABEL_HOST = 'chopsticks.host';
/** Machine the controller ran on: a pid only means something there. */
export const LABEL_CONTROLLER = 'chopsticks.controller';

export interface EphemeralSpec {
  image: string;
  hostName: string;
  runId: string;
  controllerPid: number;
  abortSignal?: AbortSignal;
}

/**
 * Keeps PID 1 alive without reading stdin; traps TERM so `docker stop` is quick too, though
 * close() removes with force anyway. Entrypoint is replaced so an image's own entrypoint
 * (a server, a one-shot script) cannot exit and take the host with it.
 */
const KEEPALIVE = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

export async function createEphemeralContainer(docker: Docker, spec: EphemeralSpec): Promise<Docker.Container> {
  await ensureImage(docker, spec.image, spec.abortSignal);
  const suffix = Math.random().toString(36).slice(2, 8);
  const name = `chopsticks-${spec.hostName}-${spec.runId}-${suffix}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 200);
  const container = await docker.createContainer({
    name,
    Image: spec.image,
    Entrypoint: KEEPALIVE,
    Cmd: [],
    Labels: {
      [LABEL_EPHEMERAL]: '1',
      [LABEL_RUN]: spec.runId,
      [LABEL_PID]: String(spec.controllerPid),
      [LABEL_HOST]: spec.hostName,
      [LABEL_CONTROLLER]: hostname(),
    },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', AutoRemove: false, Init: false },
    abortSignal: spec.abortSignal,
  });
  try {
    await container.start({ abortSignal: spec.abortSignal });
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
  return container;
}

/** The image is used when present; otherwise pulled once (fails fast without a registry). */
async function ensureImage(docker: Docker, image: string, abortSignal?: AbortSignal): Promise<void> {
  try {
    await docker.getImage(image).inspect({ abortSignal } as Docker.ImageInspectOptions);
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  const stream = await docker.pull(image, { abortSignal });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }> | undefined) => {
      const failed = output?.find((o) => typeof o.error === 'string');
      if (err !== null) reject(err);
      else if (failed !== undefined) reject(new Error(failed.error));
      else resolve();
    });
  });
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export interface ReapOptions {
  /** Whether a controller pid on this machine is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}

/**
 * Removes ephemeral containers whose controller (same machine, by label) is no longer
 * running: what a SIGKILLed or crashed earlier run left behind. Returns removed ids.
 */
export async function reapStaleEphemeral(docker: Docker, opts: ReapOptions = {}): Promise<string[]> {
  const isAlive = opts.isAlive ?? pidAlive;
  const me = hostname();
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_EPHEMERAL}=1`] } });
  const removed: string[] = [];
  for (const info of list) {
    const labels = (info.Labels as Record<string, string> | null) ?? {}; // the engine sends null for none
    const controller = labels[LABEL_CONTROLLER];
    if (controller !== undefined && controller !== me) continue;
    const pid = Number(labels[LABEL_PID]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true });
      removed.push(info.Id);
    } catch (err) {
      // Already gone (another process reaped it first) is the outcome we wanted.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    }
  }
  return removed;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
