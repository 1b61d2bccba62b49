/**
 * A RemoteProcess over one ssh exec channel. The streams exist at once (spawn is
 * synchronous); the channel opens when the connection is up and a channel slot is free.
 */
import type { Client, ClientChannel } from 'ssh2';
import { PassThrough } from 'node:stream';
import { HostError } from '../../errors.js';
import type { RemoteProcess, SpawnOptions } from '../types.js';

interface ExitInfo {
  code: number | null;
  signal: string | null;
}

function sigName(s: string | undefined | null): string | null {
  if (!s) return null;
  return s.startsWith('SIG') ? s : `SIG${s}`;
}

/** How long after kill() `exit` resolves even if the server has not closed the channel. */
export const KILL_GRACE_MS = 1000;
const KILL_CLOSE_AFTER_MS = 250;
const CHANNEL_OPEN_ATTEMPTS = 8;
const STDIN_BUFFER = 1024 * 1024;
/**
 * Two ssh packets: enough not to stall the channel, little enough that a fetch from many hosts
 * keeps little in memory and the data is still in the CPU's cache when it is hashed and written
 * (docs/transports.md#transfers-put-and-fetch).
 */
const STDOUT_BUFFER = 64 * 1024;

/**
 * ssh2's Channel.signal() silently does nothing once our side of the channel has sent EOF
 * (stdin ended), which is the usual state of a running command; the protocol call does not
 * have that restriction. sshd (>= 7.9) delivers it to the command's process group.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, s: string): void } };
  };
  try {
    if ((c.outgoing?.state === 'open' || c.outgoing?.state === 'eof') && c._client?._protocol)
      c._client._protocol.signal(c.outgoing.id, name);
    else ch.signal(name);
  } catch {
    // channel closing already
  }
}

/**
 * ssh2 gives every channel a 2 MiB read buffer (its window size) and no option to change it,
 * and asks the server for more data while that buffer is below 2 MiB. Behind a slower writer
 * up to 3 MiB per channel waited, and was hashed and written out of the CPU's cache. Capped at
 * STDOUT_BUFFER, ssh2 asks for more only once the channel is nearly drained: a 10 × 64 MiB
 * fetch took 6.5% less time and 10% less CPU, and peaked at 131 instead of 162 MiB
 * (docs/transports.md#transfers-put-and-fetch). The field is Node's stream state; where a
 * future Node or ssh2 lacks it, nothing changes (test/ssh/read-buffer.test.ts would say so).
 */
export function capReadBuffer(ch: ClientChannel): void {
  const state = (ch as unknown as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (state && typeof state.highWaterMark === 'number' && state.highWaterMark > STDOUT_BUFFER) state.highWaterMark = STDOUT_BUFFER;
}

export class SshProcess implements RemoteProcess {
  // Bulk transfers go through these: the default 16 KiB would hold each 32 KiB ssh packet back
  // (pause, drain, resume per packet) and throttle the channel's window.
  readonly stdin = new PassThrough({ highWaterMark: STDIN_BUFFER });
  readonly stdout = new PassThrough({ highWaterMark: STDOUT_BUFFER });
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
    this.open(client, command, release, isLost, 1);
  }

  private open(client: Client, command: string, release: () => void, isLost: () => HostError | undefined, attempt: number): void {
    client.exec(command, (err, ch) => {
      if (err) {
        const lost = isLost();
        // sshd frees a closed session a moment after we see it close, so a new channel can
        // be refused ("no more sessions") though we stay under MaxSessions: the command has
        // not started, so trying again is safe.
        if (!lost && !this.done && /Channel open failure/i.test(err.message) && attempt < CHANNEL_OPEN_ATTEMPTS) {
          setTimeout(() => this.open(client, command, release, isLost, attempt + 1), 20 * attempt + Math.random() * 30);
          return;
        }
        release();
        this.fail(lost ?? new HostError('failed', `${this.label}: cannot start a command: ${err.message}.`));
        return;
      }
      this.channel = ch;
      let info: ExitInfo | undefined;
      ch.on('exit', (code: number | null, signal?: string) => {
        info = { code: typeof code === 'number' ? code : null, signal: sigName(signal) };
      });
      ch.on('error', () => undefined); // reported through close / connection loss
      capReadBuffer(ch);
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
    sendSignal(ch, 'TERM');
    // Closing at once would drop what the command says while it stops (and its exit
    // status); close only if it is still open a moment later.
    setTimeout(() => {
      try {
        ch.close();
      } catch {
        // already closed
      }
    }, KILL_CLOSE_AFTER_MS).unref();
    // sshd keeps a session channel open until every process holding its output exits, so
    // a child that ignores the signal would hold `exit` forever: give up waiting after a grace.
    setTimeout(() => this.finish({ code: null, signal: 'SIGTERM' }), KILL_GRACE_MS).unref();
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
