/**
 * The local transport: processes on this machine, started without a shell.
 */
import { spawn as spawnChild } from 'node:child_process';
import { HostError } from '../../errors.js';
import type { LocalHost } from '../../model/playbook.js';
import type { RemoteProcess, SpawnOptions, Transport } from '../types.js';

export interface LocalTransportOptions {
  hostName: string;
  cwd?: string;
  /** Merged over process.env. */
  env?: Record<string, string>;
}

export function createLocalTransport(host: LocalHost): Transport {
  return new LocalTransport({ hostName: host.name, cwd: host.cwd, env: host.env });
}

export class LocalTransport implements Transport {
  readonly hostName: string;
  readonly address = 'local';
  readonly sharedMachine = 'local';
  /** The controller itself is the session's parent. */
  readonly sessionAncestors = 1;
  onLost?: (err: Error) => void;
  private readonly cwd: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly live = new Set<RemoteProcess>();

  constructor(opts: LocalTransportOptions) {
    this.hostName = opts.hostName;
    this.cwd = opts.cwd;
    this.env = { ...process.env, ...(opts.env ?? {}) };
  }

  async connect(): Promise<void> {
    // Nothing to reach; a bad cwd shows up as a spawn error with a clear message.
  }

  spawn(argv: string[], opts: SpawnOptions = {}): RemoteProcess {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new HostError('failed', `${this.hostName}: empty command`);
    // Own process group, so kill() reaches the children a command starts too.
    const child = spawnChild(cmd, args, {
      cwd: this.cwd,
      env: this.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const hostName = this.hostName;
    let cancelled = false;
    const kill = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        try {
          child.kill('SIGTERM');
        } catch {
          /* already gone */
        }
      }
    };
    const onAbort = (): void => {
      cancelled = true;
      kill();
    };
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    // A process that could not start still gets streams; writes to its stdin must not crash us.
    child.stdin.on('error', () => {});

    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        opts.signal?.removeEventListener('abort', onAbort);
        const kind = err.code === 'ENOENT' ? 'not_found' : err.code === 'EACCES' ? 'permission_denied' : 'failed';
        const what = err.code === 'ENOENT' && this.cwd !== undefined ? `${cmd} (or the folder ${this.cwd})` : cmd;
        reject(new HostError(kind, `${hostName}: cannot start ${what}: ${err.message}`));
      });
      child.once('close', (code, signal) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (cancelled) reject(new HostError('cancelled', `${hostName}: ${cmd} was cancelled`));
        else resolve({ code, signal });
      });
    });
    exit.catch(() => {});
    const proc: RemoteProcess = { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exit, kill };
    this.live.add(proc);
    exit.finally(() => this.live.delete(proc)).catch(() => {});
    return proc;
  }

  async close(): Promise<void> {
    for (const p of this.live) p.kill();
  }
}
