/**
 * A RemoteProcess over one ssh exec channel. The streams exist at once (spawn is
 * synchronous); the channel opens when the connection is up and a channel slot is free.
 */
import type { Client, ClientChannel } from 'ssh2';
import { PassThrough } from 'node:stream';
import { HostError } from '../../errors.js';
import type { RemoteProcess, SpawnOptions } from '../types.js';

type ExitInfo = { code: number | null; signal: string | null };

function sigName(s: string | undefined | null): string | null {
  if (!s) return null;
  return s.startsWith('SIG') ? s : `SIG${s}`;
}

export class SshProcess implements RemoteProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exit: Promise<ExitInfo>;
  private resolveExit!: (v: ExitInfo) => void;
  private rejectExit!: (e: Error) => void;
  private done = false;
  private channel: ClientChannel | undefined;
  private killed = false;

  constructor(
    private readonly label: string,
    opts: SpawnOptions | undefined,
    private readonly onDone: (p: SshProcess) => void,
  ) {
    this.exit = new Promise<ExitInfo>((res, rej) => {
      this.resolveExit = res;
      this.rejectExit = rej;
    });
    // Callers that only watch the streams must not get an unhandled rejection.
    this.exit.catch(() => undefined);
    const signal = opts?.signal;
    if (signal) {
      const onAbort = (): void => {
        this.kill();
        this.fail(new HostError('cancelled', `${label}: command cancelled.`));
      };
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      void this.exit.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    }
  }

  /** Open the exec channel; `release` frees the channel slot when the channel closes. */
  start(client: Client, command: string, release: () => void, isLost: () => HostError | undefined): void {
    if (this.done || this.killed) {
      release();
      if (!this.done) this.finish({ code: null, signal: 'SIGTERM' });
      return;
    }
    client.exec(command, (err, ch) => {
      if (err) {
        release();
        this.fail(isLost() ?? new HostError('failed', `${this.label}: cannot start a command: ${err.message}.`));
        return;
      }
      this.channel = ch;
      let info: ExitInfo | undefined;
      ch.on('exit', (code: number | null, signal?: string) => {
        info = { code: typeof code === 'number' ? code : null, signal: sigName(signal) };
      });
      ch.on('error', () => undefined); // reported through close / connection loss
      ch.pipe(this.stdout);
      ch.stderr.pipe(this.stderr);
      this.stdin.pipe(ch);
      ch.on('close', () => {
        release();
        this.stdin.unpipe(ch);
        this.stdin.resume(); // whatever is still written goes nowhere, never blocks
        // ssh2 emits the client's `close` before closing its channels; a tick later we
        // know whether the connection died under this command.
        setImmediate(() => {
          const lost = isLost();
          if (lost && !info) this.fail(lost);
          else this.finish(info ?? { code: null, signal: this.killed ? 'SIGTERM' : null });
        });
      });
      if (this.killed) this.kill();
    });
  }

  kill(): void {
    this.killed = true;
    const ch = this.channel;
    if (!ch) return;
    try {
      ch.signal('TERM');
    } catch {
      // channel already closing
    }
    try {
      ch.close();
    } catch {
      // already closed
    }
  }

  finish(info: ExitInfo): void {
    if (this.done) return;
    this.done = true;
    this.onDone(this);
    for (const s of [this.stdout, this.stderr]) if (!s.writableEnded) s.end();
    this.resolveExit(info);
  }

  fail(err: HostError): void {
    if (this.done) return;
    this.done = true;
    this.onDone(this);
    for (const s of [this.stdout, this.stderr]) if (!s.writableEnded) s.end();
    this.rejectExit(err);
  }
}
