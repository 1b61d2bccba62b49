/**
 * One process in a container: a Docker exec with a hijacked, multiplexed attach stream.
 * stdin is piped to the socket, so `stdin.end()` half-closes it and the process sees EOF.
 * The exit code comes from inspecting the exec once the stream has ended.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { HostError } from '../../errors.js';
import type { RemoteProcess, SpawnOptions } from '../types.js';
import { FrameDemuxer } from './demux.js';
import { statusOf } from './ephemeral.js';

export interface ExecTarget {
  hostName: string;
  container: Docker.Container;
  /** Name or id as the user wrote it, for messages. */
  containerLabel: string;
  engineUrl: string;
  /** Exec user (the host's `become`): busybox and slim images have no sudo. */
  user?: string;
  /** Engine on this machine: a host-side kill of the exec's process is possible. */
  localEngine: boolean;
  /** The container or engine is gone: tells the transport (which tells the session). */
  lost(err: HostError): void;
}

interface Exit {
  code: number | null;
  signal: string | null;
}

export function spawnExec(target: ExecTarget, argv: string[], opts: SpawnOptions = {}): RemoteProcess {
  const stdin = new PassThrough();
  const demux = new FrameDemuxer();
  let sock: Duplex | null = null;
  let exec: Docker.Exec | null = null;
  let killed = false;
  let cancelled = false;

  const kill = (): void => {
    if (killed) return;
    killed = true;
    sock?.destroy();
    closeStdin();
    if (exec !== null) void killOnHost(target, exec);
    // Not yet started: run() sees `killed` and never attaches.
  };

  // Like a pipe to a dead process: a writer still feeding stdin must fail, not wait forever.
  const closeStdin = (): void => {
    stdin.unpipe();
    if (!stdin.writableFinished) stdin.destroy();
  };

  const onAbort = (): void => {
    cancelled = true;
    kill();
  };
  if (opts.signal?.aborted === true) cancelled = true;
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const run = async (): Promise<Exit> => {
    if (cancelled) throw cancelledError(target);
    try {
      exec = await target.container.exec({
        Cmd: argv,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(target.user !== undefined ? { User: target.user } : {}),
      });
      sock = await exec.start({ hijack: true, stdin: true });
    } catch (err) {
      throw await startFailure(target, err);
    }
    if (killed) {
      sock.destroy();
      void killOnHost(target, exec);
    }
    (sock as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    const ended = streamEnded(sock);
    // EPIPE on stdin after the process exited is normal; the outcome is decided below.
    sock.on('error', () => undefined);
    sock.once('end', () => {
      if (exec !== null && sock !== null && !sock.writableFinished) void closeOnceExited(exec, sock);
    });
    stdin.pipe(sock);
    sock.pipe(demux);
    const clean = await ended;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- onAbort sets it while this awaits
    if (cancelled) throw cancelledError(target);
    if (killed) return { code: null, signal: 'SIGTERM' };
    return settle(target, exec, clean && !demux.midFrame);
  };

  const exit = run().finally(() => {
    opts.signal?.removeEventListener('abort', onAbort);
    closeStdin();
    if (!demux.writableEnded) demux.end();
  });
  exit.catch((err: unknown) => {
    if (err instanceof HostError && err.kind === 'connection_lost') target.lost(err);
  });

  return { stdin, stdout: demux.stdout, stderr: demux.stderr, exit, kill };
}

/**
 * The engine ends its half of the stream when the output is over, but closes the connection
 * only once our half ends too, and a writer still feeding stdin to a process that has exited
 * (a put whose `cat` hit a full disk) never gets there: the engine no longer reads, the write
 * blocks, and the exit waited minutes. Once the exec is over, nothing more can arrive: close.
 * (A process that closed its output but still reads stdin is left alone until it exits.)
 */
async function closeOnceExited(exec: Docker.Exec, sock: Duplex): Promise<void> {
  for (let delay = 5; !sock.destroyed; delay = Math.min(delay * 2, 200)) {
    try {
      if (!(await exec.inspect()).Running) break;
    } catch {
      break; // the engine is gone: settle() says so
    }
    await sleep(delay);
  }
  sock.destroy();
}

/** true when the engine closed the stream normally (end of output), false on reset/destroy. */
function streamEnded(sock: Duplex): Promise<boolean> {
  return new Promise((resolve) => {
    let gotEnd = false;
    sock.once('end', () => {
      gotEnd = true;
    });
    sock.once('close', () => resolve(gotEnd));
  });
}

const POLL_LIMIT_MS = 5_000;
const SIGNAL_DEATH_WINDOW_MS = 1_000;
/** Docker's exit code for an exec its runtime could not start (also the shell's "cannot execute"). */
const EXEC_FAILED = 126;

/**
 * The stream has ended; the exec's exit code shows up in inspect a moment later. A
 * container that stopped (killed, OOM, removed) turns into connection_lost, not an exit code.
 */
async function settle(target: ExecTarget, exec: Docker.Exec, cleanEnd: boolean): Promise<Exit> {
  const started = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    let info: Docker.ExecInspectInfo;
    try {
      info = await exec.inspect();
    } catch (err) {
      throw await lostError(target, err);
    }
    if (!info.Running && typeof info.ExitCode === 'number') {
      // 128+n (a signal, such as the SIGKILL of `docker kill`), 126 (the runtime could not start
      // the process: "OCI runtime exec failed", as when the container is being killed) or a torn
      // stream: was it the container?
      const signalled = info.ExitCode >= 128 || info.ExitCode === EXEC_FAILED;
      if (!cleanEnd || signalled || info.ExitCode < 0) {
        // `docker kill` ends the exec (128+9, or 126 when it lands as the exec starts) a moment
        // before the engine marks the container stopped: such an end is checked again for a
        // short while before it counts as the command's own exit code.
        const until = Date.now() + (signalled ? SIGNAL_DEATH_WINDOW_MS : 0);
        for (;;) {
          await assertContainerRunning(target);
          if (Date.now() >= until) break;
          await sleep(100);
        }
      }
      return { code: info.ExitCode, signal: null };
    }
    if (!cleanEnd || Date.now() - started > POLL_LIMIT_MS) {
      await assertContainerRunning(target);
      if (Date.now() - started > POLL_LIMIT_MS) {
        throw new HostError(
          'connection_lost',
          `${target.hostName}: the output of a command in container ${target.containerLabel} ended but Docker never reported its exit code`,
        );
      }
    }
    await sleep(delay);
  }
}

async function assertContainerRunning(target: ExecTarget): Promise<void> {
  let state: { Running?: boolean; Status?: string; ExitCode?: number; OOMKilled?: boolean };
  try {
    state = (await target.container.inspect()).State;
  } catch (err) {
    throw await lostError(target, err);
  }
  if (state.Running !== true) {
    const why =
      state.OOMKilled === true
        ? 'was killed for lack of memory'
        : `stopped (${state.Status ?? 'not running'}, exit ${state.ExitCode ?? '?'})`;
    throw new HostError('connection_lost', `${target.hostName}: container ${target.containerLabel} ${why} while a command was running`);
  }
}

async function startFailure(target: ExecTarget, err: unknown): Promise<HostError> {
  if (err instanceof HostError) return err;
  const status = statusOf(err);
  if (status === 409 || status === 500 || status === 404) {
    return new HostError(
      'connection_lost',
      `${target.hostName}: container ${target.containerLabel} is gone or not running (${messageOf(err)}); start it with docker start ${target.containerLabel}`,
    );
  }
  return lostError(target, err);
}

async function lostError(target: ExecTarget, err: unknown): Promise<HostError> {
  const status = statusOf(err);
  if (status === 404)
    return new HostError('connection_lost', `${target.hostName}: container ${target.containerLabel} was removed while in use`);
  return new HostError(
    'connection_lost',
    `${target.hostName}: lost the Docker engine at ${target.engineUrl} (${messageOf(err)}): is dockerd still running?`,
  );
}

function cancelledError(target: ExecTarget): HostError {
  return new HostError('cancelled', `${target.hostName}: command cancelled`);
}

/**
 * Docker has no API to signal an exec. When the engine is local, its inspect Pid is a pid on
 * this machine; the cgroup check makes sure that pid still belongs to this container (pids
 * are reused) before sending TERM. Remote engines: the stream is cut and the session layer
 * kills by pid inside the container.
 */
async function killOnHost(target: ExecTarget, exec: Docker.Exec): Promise<void> {
  if (!target.localEngine) return;
  try {
    const info = await exec.inspect();
    if (!info.Running || !info.Pid) return;
    const cgroup = await readFile(`/proc/${info.Pid}/cgroup`, 'utf8');
    if (!cgroup.includes(info.ContainerID)) return;
    process.kill(info.Pid, 'SIGTERM');
  } catch {
    // Best effort: gone already, no permission, or not our machine after all.
  }
}

function messageOf(err: unknown): string {
  const e = err as { code?: string; message?: string; json?: { message?: string } } | null | undefined;
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
