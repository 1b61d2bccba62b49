/**
 * The ssh Transport: ONE connection per host for the whole run (through shared bastion
 * connections when `jump`/ProxyJump say so), each spawn an exec channel on it.
 */
import type { Client } from 'ssh2';
import { HostError } from '../../errors.js';
import { formatDuration } from '../../lang/durations.js';
import type { SshHost } from '../../model/playbook.js';
import type { RemoteProcess, SpawnOptions, Transport } from '../types.js';
import { connectionLost } from './classify.js';
import { acquireBastion, connectEndpoint } from './connect.js';
import { endpointAddress, resolveEndpoint, type Endpoint, type SshContext } from './endpoint.js';
import { SshProcess } from './process.js';
import { shJoin } from '../../lang/shell-quote.js';
import { Semaphore } from './semaphore.js';

export type { SshContext } from './endpoint.js';
export { HANDSHAKES_PER_ENDPOINT } from './connect.js';

/** Below sshd's default MaxSessions (10): the rest wait for a free channel. */
export const CHANNELS_PER_CONNECTION = 8;
const CLOSE_GRACE_MS = 500;

class SshTransport implements Transport {
  readonly hostName: string;
  readonly address: string;
  /** sshd's two processes for this connection (the login shell execs the command: spawn). */
  readonly sessionAncestors = 2;
  onLost?: (err: Error) => void;

  private endpoint: Endpoint | undefined;
  private resolveError: HostError | undefined;
  private connecting: Promise<Client> | undefined;
  private client: Client | undefined;
  private bastion: { client: Client; release: () => void } | undefined;
  private lost: HostError | undefined;
  private closing = false;
  private readonly channels = new Semaphore(CHANNELS_PER_CONNECTION);
  private readonly live = new Set<SshProcess>();

  constructor(
    host: SshHost,
    private readonly ctx: SshContext,
  ) {
    this.hostName = host.name;
    try {
      this.endpoint = resolveEndpoint(host, ctx);
      this.address = endpointAddress(this.endpoint);
    } catch (err) {
      this.resolveError = err instanceof HostError ? err : new HostError('unreachable', `${host.name}: ${(err as Error).message}`);
      this.address = `${host.user ? `${host.user}@` : ''}${host.host}:${host.port ?? 22}`;
    }
  }

  connect(signal?: AbortSignal): Promise<void> {
    return this.ensureClient(signal).then(() => undefined);
  }

  private ensureClient(signal?: AbortSignal): Promise<Client> {
    if (this.resolveError) return Promise.reject(this.resolveError);
    if (this.closing) return Promise.reject(new HostError('cancelled', `${this.hostName}: transport closed.`));
    if (this.lost) return Promise.reject(this.lost);
    if (!this.connecting) {
      const e = this.endpoint!;
      this.connecting = (async () => {
        let bastion: { client: Client; release: () => void } | undefined;
        try {
          if (e.via)
            bastion = await acquireBastion(e.via, this.ctx, signal).catch((err: unknown) => throwThroughJump(this.hostName, e.via!, err));
          const client = await connectEndpoint(e, bastion?.client, this.ctx, signal);
          this.bastion = bastion;
          this.adopt(client);
          return client;
        } catch (err) {
          bastion?.release();
          throw err;
        }
      })();
      // A failed connect may be retried by a later call (step retries).
      this.connecting.catch(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private adopt(client: Client): void {
    this.client = client;
    let cause: string | undefined;
    client.on('error', (err: Error & { level?: string }) => {
      cause =
        err.level === 'client-timeout'
          ? `no answer to ${this.endpoint!.keepaliveCount} keepalives ${formatDuration(this.endpoint!.keepaliveMs)} apart`
          : err.message;
    });
    client.on('close', () => {
      if (this.closing) return;
      const err = connectionLost(this.hostName, this.address, cause ?? 'the server closed the connection');
      this.lost = err;
      this.bastion?.release();
      this.bastion = undefined;
      for (const p of [...this.live]) p.fail(err);
      this.onLost?.(err);
    });
  }

  spawn(argv: string[], opts?: SpawnOptions): RemoteProcess {
    const proc = new SshProcess(this.hostName, opts, (p) => this.live.delete(p));
    if (argv.length === 0) {
      proc.fail(new HostError('failed', `${this.hostName}: nothing to run (empty argv).`));
      return proc;
    }
    this.live.add(proc);
    let command: string;
    try {
      // sshd runs the command through the user's login shell, and dash would stay as its parent:
      // one more process for every session, transfer and stop on the host.
      command = `exec ${shJoin(argv)}`;
    } catch (err) {
      proc.fail(err as HostError);
      return proc;
    }
    void (async () => {
      try {
        const client = await this.ensureClient(opts?.signal);
        const release = await this.channels.acquire();
        if (this.lost) {
          release();
          proc.fail(this.lost);
          return;
        }
        proc.start(client, command, release, () => this.lost);
      } catch (err) {
        proc.fail(err instanceof HostError ? err : new HostError('failed', `${this.hostName}: ${(err as Error).message}`));
      }
    })();
    return proc;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    const client = this.client;
    for (const p of [...this.live]) p.fail(new HostError('cancelled', `${this.hostName}: transport closed while the command ran.`));
    if (client && !this.lost) {
      await new Promise<void>((resolve) => {
        // A frozen server never answers the disconnect: do not wait on it past a moment.
        const t = setTimeout(() => {
          client.destroy();
          resolve();
        }, CLOSE_GRACE_MS);
        client.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        client.end();
      });
    }
    // Bastions last: this host's connection runs through them.
    this.bastion?.release();
    this.bastion = undefined;
  }
}

export function createSshTransport(host: SshHost, ctx: SshContext): Transport {
  return new SshTransport(host, ctx);
}

/**
 * A jump host's failure, said as the host's: the run reports it under the host, and the jump host
 * may be a ProxyJump of ~/.ssh/config the playbook never names.
 */
function throwThroughJump(host: string, via: Endpoint, err: unknown): never {
  if (!(err instanceof HostError)) throw err;
  const own = err.message.startsWith(`${via.label}: `) ? err.message.slice(via.label.length + 2) : err.message;
  throw new HostError(err.kind, `${host}: through jump host ${via.label}: ${own}`, err.tb, err.phase);
}
