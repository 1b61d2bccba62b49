/**
 * The Docker transport: processes are Docker execs in an existing container, or in an
 * ephemeral container made for the run and removed by close(). Talks to the engine API
 * through dockerode; no docker CLI needed.
 *
 * become: busybox and slim images have no sudo, so the host's `become` is applied as the
 * exec's User for every process this transport starts (see `execUser`).
 */
import Docker from 'dockerode';
import { HostError } from '../../errors.js';
import { formatDuration } from '../../lang/durations.js';
import type { DockerHost } from '../../model/playbook.js';
import type { RemoteProcess, SpawnOptions, Transport } from '../types.js';
import { dockerodeOptions, parseDockerEndpoint } from './endpoint.js';
import type { DockerEndpoint } from './endpoint.js';
import { createEphemeralContainer, reapStaleEphemeral, removeContainer, statusOf } from './ephemeral.js';
import { spawnExec } from './exec-process.js';

export { reapStaleEphemeral } from './ephemeral.js';
export { parseDockerEndpoint } from './endpoint.js';

export interface DockerContext {
  /** Identifies the run in ephemeral containers' labels (`chopsticks.run`). */
  runId: string;
  /** Controller pid written to `chopsticks.pid`; default process.pid. */
  controllerPid?: number;
  /** Engine ping + container checks; default 10 s. */
  connectTimeoutMs?: number;
  /** Environment for DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where a problem that must not fail the run goes (an ephemeral container that could not be removed). */
  warn?: (message: string) => void;
}

export interface DockerTransport extends Transport {
  /** Id of the container in use once connected (ephemeral or existing). */
  readonly containerId: string | undefined;
}

/** Stale ephemeral containers are reaped once per engine per process. */
const reaped = new Map<string, Promise<void>>();

export function createDockerTransport(host: DockerHost, ctx: DockerContext): DockerTransport {
  return new DockerTransportImpl(host, ctx);
}

class DockerTransportImpl implements DockerTransport {
  readonly hostName: string;
  readonly address: string;
  readonly execUser: string | undefined;
  onLost?: (err: Error) => void;

  private readonly parsed: ReturnType<typeof parseDockerEndpoint>;
  private container: Docker.Container | null = null;
  private containerLabel: string;
  private connecting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private lostReported = false;
  private dropUrgent: (() => void) | undefined;
  private readonly processes = new Set<RemoteProcess>();

  constructor(
    private readonly host: DockerHost,
    private readonly ctx: DockerContext,
  ) {
    this.hostName = host.name;
    this.execUser = host.become;
    this.parsed = parseDockerEndpoint(host.docker_host, ctx.env ?? process.env);
    const engine = this.parsed.ok ? this.parsed.endpoint.url : (host.docker_host ?? '?');
    this.containerLabel = host.container ?? `(ephemeral, image ${host.image ?? '?'})`;
    this.address =
      host.container !== undefined
        ? `docker://${host.container} on ${engine}`
        : `docker image ${host.image ?? '?'} (ephemeral) on ${engine}`;
  }

  get containerId(): string | undefined {
    return this.container?.id;
  }

  connect(signal?: AbortSignal): Promise<void> {
    if (this.closing !== null) return Promise.reject(new HostError('cancelled', `${this.hostName}: transport already closed`));
    this.connecting ??= this.doConnect(signal);
    // A failed connect may be retried (the executor's `retries`).
    this.connecting.catch(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async doConnect(signal?: AbortSignal): Promise<void> {
    if (!this.parsed.ok) throw new HostError('unreachable', `${this.hostName}: ${this.parsed.message}`);
    const ep = this.parsed.endpoint;
    const timeoutMs = this.ctx.connectTimeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const abortSignal = signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout;
    const docker = new Docker(dockerodeOptions(ep, this.ctx.env ?? process.env));
    try {
      // dockerode honours abortSignal on ping; its types only list the callback form.
      await (docker.ping as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>)({ abortSignal });
    } catch (err) {
      throw this.connectFailure(err, ep, signal, timeout, timeoutMs, 'engine');
    }
    try {
      await reapOnce(docker, ep);
      if (this.host.container !== undefined) {
        this.container = await this.checkExisting(docker, this.host.container, abortSignal);
      } else if (this.host.image !== undefined) {
        const made = await createEphemeralContainer(docker, {
          image: this.host.image,
          hostName: this.hostName,
          runId: this.ctx.runId,
          controllerPid: this.ctx.controllerPid ?? process.pid,
          abortSignal,
        }).catch((err: unknown) => {
          throw statusOf(err) === 404 || /pull|repository|manifest|registry/i.test(messageOf(err))
            ? new HostError(
                'unreachable',
                `${this.hostName}: image ${this.host.image} is not on the Docker engine at ${ep.url} and could not be pulled (${messageOf(err)}); build or load it there first`,
              )
            : err;
        });
        this.container = made.container;
        this.containerLabel = made.container.id.slice(0, 12);
        // A second SIGINT skips close(): the container is still removed on the way out.
        this.dropUrgent = made.forget;
      } else {
        throw new HostError(
          'unreachable',
          `${this.hostName}: a docker host needs either container: NAME or image: IMAGE with ephemeral: true`,
        );
      }
    } catch (err) {
      if (err instanceof HostError) throw err;
      throw this.connectFailure(err, ep, signal, timeout, timeoutMs, 'container');
    }
    // close() may have run while the container was being made: do not leak it.
    if (this.closing !== null) {
      await this.removeEphemeral();
      throw new HostError('cancelled', `${this.hostName}: closed while connecting`);
    }
  }

  private async checkExisting(docker: Docker, name: string, abortSignal: AbortSignal): Promise<Docker.Container> {
    const container = docker.getContainer(name);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect({ abortSignal });
    } catch (err) {
      if (statusOf(err) === 404)
        throw new HostError(
          'unreachable',
          `${this.hostName}: container ${name} does not exist on the Docker engine at ${this.engineUrl()}`,
        );
      throw err;
    }
    if (info.State.Paused)
      throw new HostError('unreachable', `${this.hostName}: container ${name} is paused; resume it with docker unpause ${name}`);
    if (!info.State.Running)
      throw new HostError('unreachable', `${this.hostName}: container ${name} is not running; start it with docker start ${name}`);
    return docker.getContainer(info.Id);
  }

  private connectFailure(
    err: unknown,
    ep: DockerEndpoint,
    signal: AbortSignal | undefined,
    timeout: AbortSignal,
    timeoutMs: number,
    stage: 'engine' | 'container',
  ): HostError {
    if (signal?.aborted === true) return new HostError('cancelled', `${this.hostName}: connect cancelled`);
    if (timeout.aborted) {
      return new HostError('timeout', `${this.hostName}: Docker engine at ${ep.url} did not answer within ${formatDuration(timeoutMs)}`);
    }
    if (stage === 'engine') {
      return new HostError(
        'unreachable',
        `${this.hostName}: Docker engine at ${ep.url} is not answering: is dockerd running? (${messageOf(err)})`,
      );
    }
    return new HostError('unreachable', `${this.hostName}: Docker engine at ${ep.url} refused: ${messageOf(err)}`);
  }

  spawn(argv: string[], opts?: SpawnOptions): RemoteProcess {
    if (this.container === null || this.closing !== null) {
      throw new HostError(
        'connection_lost',
        `${this.hostName}: not connected to ${this.address}${this.closing !== null ? ' (closed)' : ''}`,
      );
    }
    const ep = this.parsed.ok ? this.parsed.endpoint : undefined;
    const proc = spawnExec(
      {
        hostName: this.hostName,
        container: this.container,
        containerLabel: this.containerLabel,
        engineUrl: this.engineUrl(),
        ...(this.execUser !== undefined ? { user: this.execUser } : {}),
        localEngine: ep?.kind === 'unix',
        lost: (err) => this.reportLost(err),
      },
      argv,
      opts,
    );
    this.processes.add(proc);
    proc.exit.then(
      () => this.processes.delete(proc),
      () => this.processes.delete(proc),
    );
    return proc;
  }

  private reportLost(err: HostError): void {
    if (this.lostReported || this.closing !== null) return;
    this.lostReported = true;
    this.onLost?.(err);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const p of this.processes) p.kill();
      // Wait for a container still being made, so it is removed rather than leaked.
      await this.connecting?.catch(() => undefined);
      await this.removeEphemeral();
    })();
    return this.closing;
  }

  /**
   * Never throws: close() runs in the executor's finally, where an exception would hide the
   * run's real outcome. A container that cannot be removed is reported through `warn`, and
   * the next run on this machine reaps it (its controller pid is dead by then).
   */
  private async removeEphemeral(): Promise<void> {
    if (!this.host.ephemeral || this.container === null) return;
    const c = this.container;
    this.dropUrgent?.();
    try {
      await removeContainer(c);
    } catch (err) {
      // 404: already removed; 409: removal already in progress.
      if (statusOf(err) === 404 || statusOf(err) === 409) return;
      this.ctx.warn?.(
        `${this.hostName}: could not remove ephemeral container ${c.id.slice(0, 12)} (${messageOf(err)}); remove it with docker rm -f ${c.id.slice(0, 12)}`,
      );
    }
  }

  private engineUrl(): string {
    return this.parsed.ok ? this.parsed.endpoint.url : (this.host.docker_host ?? '?');
  }
}

function reapOnce(docker: Docker, ep: DockerEndpoint): Promise<void> {
  let p = reaped.get(ep.url);
  if (p === undefined) {
    // Clean-up must never stop a run: failure to reap is forgotten (and retried next process).
    p = reapStaleEphemeral(docker).then(
      () => undefined,
      () => undefined,
    );
    reaped.set(ep.url, p);
  }
  return p;
}

function messageOf(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}
