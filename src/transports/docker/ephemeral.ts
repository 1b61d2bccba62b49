/**
 * Containers made for one run (`image:` + `ephemeral: true`), and the clean-up of ones a
 * killed earlier run left behind. Labels say who made a container, so clean-up never
 * touches containers it did not make.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { onUrgentExit } from '../urgent-exit.js';

export const LABEL_EPHEMERAL = 'chopsticks.ephemeral';
export const LABEL_RUN = 'chopsticks.run';
export const LABEL_PID = 'chopsticks.pid';
export const LABEL_HOST = 'chopsticks.host';
/** Machine the controller ran on (its host name, for people reading `docker ps`). */
export const LABEL_CONTROLLER = 'chopsticks.controller';
/**
 * Who made the container, precisely enough to prove that run dead: /etc/machine-id (host names
 * repeat across machines sharing an engine), the boot id (pids restart at each boot), and the
 * pid's start time (pids are reused). Containers without all of them are never reaped.
 */
export const LABEL_MACHINE = 'chopsticks.machine_id';
export const LABEL_BOOT = 'chopsticks.boot_id';
export const LABEL_PID_START = 'chopsticks.pid_start';

export interface ControllerIdentity {
  machineId: string;
  bootId: string;
  pid: number;
  /** Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22). */
  pidStart: string;
}

function readTrimmed(path: string): string | undefined {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

/** Start time of a live process, or undefined when it does not exist (or /proc is missing). */
export function pidStartTime(pid: number): string | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // comm may hold spaces and parentheses: fields after the last ')' are fixed (starttime is 22nd).
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** This controller's identity, or undefined where it cannot be known (no /proc, no machine id). */
export function controllerIdentity(pid = process.pid): ControllerIdentity | undefined {
  const machineId = readTrimmed('/etc/machine-id') ?? readTrimmed('/var/lib/dbus/machine-id');
  const bootId = readTrimmed('/proc/sys/kernel/random/boot_id');
  const pidStart = pidStartTime(pid);
  if (machineId === undefined || bootId === undefined || pidStart === undefined) return undefined;
  return { machineId, bootId, pid, pidStart };
}

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

const REMOVE_TIMEOUT_MS = 15_000;

/** Force-removes a container (and its anonymous volumes), waiting at most REMOVE_TIMEOUT_MS. */
export function removeContainer(c: Docker.Container): Promise<unknown> {
  return c.remove({ force: true, v: true, abortSignal: AbortSignal.timeout(REMOVE_TIMEOUT_MS) } as Docker.ContainerRemoveOptions);
}

/**
 * Makes and starts the container. `forget` drops its removal on an urgent exit (a second
 * Ctrl-C), registered by name before the engine is even asked, so no moment is left in which
 * the container exists and nothing would remove it.
 */
export async function createEphemeralContainer(
  docker: Docker,
  spec: EphemeralSpec,
): Promise<{ container: Docker.Container; forget: () => void }> {
  await ensureImage(docker, spec.image, spec.abortSignal);
  const suffix = Math.random().toString(36).slice(2, 8);
  const name = `chopsticks-${spec.hostName}-${spec.runId}-${suffix}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 200);
  const forget = onUrgentExit(() => removeContainer(docker.getContainer(name)));
  let container: Docker.Container;
  try {
    // Not aborted midway: an engine that got the request makes the container all the same, and
    // its id would never reach us (an interrupt left containers behind that way). An abort is
    // honoured as soon as the container exists.
    container = await docker.createContainer({
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
        ...identityLabels(controllerIdentity(spec.controllerPid)),
      },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', AutoRemove: false, Init: false },
    });
  } catch (err) {
    forget();
    throw err;
  }
  try {
    spec.abortSignal?.throwIfAborted();
    await container.start({ abortSignal: spec.abortSignal });
  } catch (err) {
    await removeContainer(container).catch(() => undefined);
    forget();
    throw err;
  }
  return { container, forget };
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

function identityLabels(id: ControllerIdentity | undefined): Record<string, string> {
  if (id === undefined) return {};
  return { [LABEL_MACHINE]: id.machineId, [LABEL_BOOT]: id.bootId, [LABEL_PID_START]: id.pidStart };
}

export interface ReapOptions {
  /** This machine as the reaper sees it; default controllerIdentity(). */
  me?: Pick<ControllerIdentity, 'machineId' | 'bootId'>;
  /** Start time of a pid on this machine, undefined when no such process; injectable for tests. */
  startOf?: (pid: number) => string | undefined;
  /** `chopsticks cleanup --all`: every ephemeral container on the engine, whoever made it. */
  all?: boolean;
}

/**
 * Whether the run that made a container is provably over: made on this machine (machine id),
 * and either in an earlier boot or by a process that no longer exists with that start time.
 * On an engine shared by several machines, another machine's containers are never touched.
 */
export function leftByDeadRun(
  labels: Record<string, string>,
  me: Pick<ControllerIdentity, 'machineId' | 'bootId'>,
  startOf: (pid: number) => string | undefined,
): boolean {
  const machine = labels[LABEL_MACHINE];
  const boot = labels[LABEL_BOOT];
  const start = labels[LABEL_PID_START];
  const pid = Number(labels[LABEL_PID]);
  if (machine === undefined || boot === undefined || start === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  if (machine !== me.machineId) return false;
  if (boot !== me.bootId) return true;
  return startOf(pid) !== start;
}

/**
 * Removes ephemeral containers left by dead runs of this machine (a SIGKILLed or crashed
 * earlier run); with `all`, every ephemeral container on the engine. Returns removed ids.
 */
export async function reapStaleEphemeral(docker: Docker, opts: ReapOptions = {}): Promise<string[]> {
  const me = opts.me ?? controllerIdentity();
  if (me === undefined && !opts.all) return [];
  const startOf = opts.startOf ?? pidStartTime;
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_EPHEMERAL}=1`] } });
  const removed: string[] = [];
  for (const info of list) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the Engine API sends Labels: null for a container without labels
    if (!opts.all && !leftByDeadRun(info.Labels ?? {}, me!, startOf)) continue;
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
