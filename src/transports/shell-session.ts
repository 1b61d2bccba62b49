/**
 * One long-lived `sh` per host: every command of every step goes through it, one at a
 * time. A command through a running shell costs a few ms; a fresh ssh/docker exec costs
 * 60–90 ms, so this is where the product's speed comes from.
 *
 * Protocol, per command (one line written to the shell's stdin):
 *   printf 'TOKEN:SEQ:pid:%s\n' $$ >&2
 *   [K=V ...] /path/to/ARGV0 ARGS </dev/null     (ARGV0 looked up in PATH by the shell: __cs_x)
 *     or: ( [K=V; export K;] cd DIR && exec [sudo -n -u U --] ARGV ) </dev/null   (or: printf DATA | (...))
 *   (with become, env values go on stdin instead: become-env.ts)
 *   r=$?; printf 'TOKEN:SEQ:end:%s\n' $r; printf 'TOKEN:SEQ:end\n' >&2
 * The command is the shell's only child while it runs; a stop sweeps the shell's children.
 * Both streams carry an end marker so we know each is drained. TOKEN is 128 random bits per
 * session, so output cannot end a command by accident.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { formatDuration } from '../lang/durations.js';
import { MarkerScanner } from './markers.js';
import { shJoin, shQuote } from '../lang/shell-quote.js';
import { ENV_READER, envHeader } from './become-env.js';
import { mayLackSudo, noSudoError, SUDO_PROBE, transferMayLackSudo } from './no-sudo.js';
import { charBoundary, remoteError, strictUtf8, truncate } from './remote-error.js';
import { KILL_SCRIPT, LOOKUP_FN, SESSION_POLL, SESSION_SHELL, SESSION_WATCH, SESSION_WRAPPER, STAT_SCRIPT } from './session-scripts.js';
import { StderrLines } from './stderr-lines.js';
import type { FetchValue, HostSession, PutValue, RemoteFileInfo, RunOptions, RunResult, TransferOptions } from './session.js';
import { fetchFile, putFile, type TransferContext } from './transfer.js';
import type { RemoteProcess, Transport } from './types.js';
import { ENV_NAME_PATTERN } from '../lang/names.js';

const ENV_NAME = new RegExp(ENV_NAME_PATTERN);

export interface SessionHost {
  name: string;
  vars?: Readonly<Record<string, Json>>;
}

export interface SessionOptions {
  /** Default stdout cap when a command gives none. */
  maxStdout?: number;
  signal?: AbortSignal;
  /** The host's `become`: used when a call gives none. */
  defaultBecome?: string;
}

const DEFAULT_MAX_STDOUT = 16 * 1024 * 1024;
const STDERR_TAIL = 64 * 1024;
const KILL_GRACE_MS = 2000;
/** A host silent this long while close() waits on it is taken as not answering. */
const CLOSE_SILENCE_MS = 1000;

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export async function openSession(transport: Transport, host: SessionHost, opts: SessionOptions = {}): Promise<HostSession> {
  // A timeout before the session answers is a host not reached, not a step that failed.
  const connecting = (e: unknown) => {
    throw e instanceof HostError && e.kind === 'timeout' && !e.phase ? new HostError('timeout', e.message, e.tb, 'connect') : e;
  };
  await transport.connect(opts.signal).catch(connecting);
  const session = new ShellSession(transport, host, opts);
  // Proves the shell answers before any step relies on it.
  const r = await session.probe({ timeoutMs: 30_000, signal: opts.signal }).catch(connecting);
  if (r.rc !== 0) {
    await session.close();
    throw new HostError('failed', `${host.name}: the remote shell does not work (: exited ${r.rc}): ${r.stderr.trim()}`);
  }
  return session;
}

type StopReason = 'timeout' | 'cancelled' | 'overflow';

interface Current {
  seq: number;
  desc: string;
  stdout: Buffer[];
  stdoutBytes: number;
  maxStdout: number;
  stderr: Buffer[];
  stderrBytes: number;
  stderrDecoder: StringDecoder;
  /** Stderr echo, split into whole lines where the data enters (see StderrLines). */
  stderrLines: StderrLines | undefined;
  pid: number | null;
  rc: number | null;
  errEnded: boolean;
  stop: StopReason | null;
  timeoutMs: number | undefined;
  become: string | undefined;
  killRequested: boolean;
  /** The kill sweep for this command has started on the host. */
  sweepHeard: boolean;
  settle: (err: Error | null, r?: RunResult) => void;
}

export class ShellSession implements HostSession {
  readonly name: string;
  readonly sharedMachine: string | undefined;
  private readonly token = randomBytes(16).toString('hex');
  private readonly proc: RemoteProcess;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private current: Current | null = null;
  private dead: HostError | null = null;
  private closed = false;
  /** Kill sweeps still running: close() waits for them, or a frozen (SIGSTOPped) tree would be left behind. */
  private readonly killers = new Set<Promise<unknown>>();
  private readonly temps = new Set<string>();
  /** When the host last sent anything (session shell or kill sweep): close() judges by it. */
  private lastHeard = 0;
  private readonly defaultMaxStdout: number;
  private readonly defaultBecome: string | undefined;
  /** Whether the host's shell finds sudo: asked once, and only after a failure under become. */
  private sudoFound: Promise<boolean> | undefined;

  get lost(): boolean {
    return this.dead !== null;
  }

  constructor(
    private readonly transport: Transport,
    host: SessionHost,
    opts: SessionOptions = {},
  ) {
    this.name = host.name;
    this.sharedMachine = transport.sharedMachine;
    this.defaultMaxStdout = opts.maxStdout ?? DEFAULT_MAX_STDOUT;
    this.defaultBecome = opts.defaultBecome;
    this.proc = transport.spawn([
      'sh',
      '-c',
      SESSION_WRAPPER,
      'sh',
      SESSION_POLL,
      SESSION_SHELL,
      KILL_SCRIPT,
      SESSION_WATCH,
      String(transport.sessionAncestors ?? 0),
    ]);
    const prefix = Buffer.from(`${this.token}:`);
    const out = new MarkerScanner(
      prefix,
      (d) => this.onStdout(d),
      (m) => this.onMarker(m, 'out'),
    );
    const err = new MarkerScanner(
      prefix,
      (d) => this.onStderrData(d),
      (m) => this.onMarker(m, 'err'),
    );
    this.proc.stdout.on('data', (c: Buffer) => {
      this.lastHeard = Date.now();
      out.feed(c);
    });
    this.proc.stderr.on('data', (c: Buffer) => {
      this.lastHeard = Date.now();
      err.feed(c);
    });
    this.proc.stdin.on('error', () => {});
    this.proc.exit.then(
      ({ code, signal }) =>
        this.die(
          new HostError(
            'connection_lost',
            this.closed
              ? `${this.name}: the session is closed`
              : `${this.name}: connection lost: the remote shell exited (${signal ?? `code ${code}`})`,
          ),
        ),
      (e: unknown) =>
        this.die(e instanceof HostError ? e : new HostError('connection_lost', `${this.name}: connection lost: ${(e as Error).message}`)),
    );
    const prevLost = transport.onLost;
    transport.onLost = (e) => {
      prevLost?.(e);
      this.die(new HostError('connection_lost', `${this.name}: connection lost: ${e.message}`));
    };
  }

  run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) return Promise.reject(new HostError('failed', `${this.name}: empty command`));
    const become = this.becomeFor(opts.become);
    return this.enqueue(() => this.exec(argv, { ...opts, become })).then(async (r) => {
      // sudo -n fails with rc 1 and this message when it would have to ask for a password.
      if (become !== undefined && r.rc === 1 && /^sudo: (a )?(password|terminal) is required/m.test(r.stderr)) {
        throw remoteError(this.name, shJoin(argv), r.stderr, become);
      }
      // Without sudo the shell's "sudo: not found" would pass for the command's own result.
      if (become !== undefined && mayLackSudo(r.rc) && !(await this.hasSudo())) {
        throw noSudoError(this.name, become);
      }
      return r;
    });
  }

  /** The probe runs without become: the host's default become would need the very sudo in question. */
  private hasSudo(): Promise<boolean> {
    this.sudoFound ??= this.enqueue(() => this.exec(SUDO_PROBE, {})).then(
      (r) => r.rc === 0,
      () => true,
    );
    return this.sudoFound;
  }

  /** A transfer under become that failed because the host has no sudo says so (no-sudo.ts). */
  private async sudoChecked<T>(transfer: Promise<T>, become: string | undefined, what: string): Promise<T> {
    try {
      return await transfer;
    } catch (e) {
      if (become !== undefined && transferMayLackSudo(e) && !(await this.hasSudo())) throw noSudoError(this.name, become, what);
      throw e;
    }
  }

  /**
   * One round trip through the shell, with no process started on the host: the shell's own `:`.
   * Opening a session pays for it on every host, and a process costs a busy or virtualised host
   * several milliseconds of CPU. It also defines the PATH lookup command lines use (LOOKUP_FN).
   */
  probe(opts: RunOptions = {}): Promise<RunResult> {
    return this.enqueue(() => this.exec([':'], opts, (t) => `${LOOKUP_FN}; :; printf '${t}:end:%s\\n' "$?"; printf '${t}:end\\n' >&2\n`));
  }

  private becomeFor(asked: string | undefined): string | undefined {
    const user = asked ?? this.defaultBecome;
    // The transport already runs as this user (docker exec's User): no sudo needed.
    return user === this.transport.execUser ? undefined : user;
  }

  shell(cmd: string, opts: RunOptions = {}): Promise<RunResult> {
    return this.run(['sh', '-c', cmd], opts);
  }

  put(localPath: string, remotePath: string | undefined, mode: number, opts: TransferOptions = {}): Promise<PutValue> {
    return this.putOrCheck(localPath, remotePath, mode, opts, false);
  }

  putCheck(localPath: string, remotePath: string | undefined, mode: number, opts: TransferOptions = {}): Promise<PutValue> {
    return this.putOrCheck(localPath, remotePath, mode, opts, true);
  }

  private putOrCheck(
    localPath: string,
    remotePath: string | undefined,
    mode: number,
    opts: TransferOptions,
    check: boolean,
  ): Promise<PutValue> {
    const become = this.becomeFor(opts.become);
    const put = putFile(this.transferContext(), localPath, remotePath, mode, { ...opts, become }, check);
    return this.sudoChecked(put, become, opts.what ?? `put ${remotePath ?? '(temporary path)'}`);
  }

  fetch(remotePath: string, localPath: string | undefined, opts: TransferOptions = {}): Promise<FetchValue> {
    const become = this.becomeFor(opts.become);
    const fetch = fetchFile(this.transferContext(), remotePath, localPath, { ...opts, become });
    return this.sudoChecked(fetch, become, opts.what ?? `fetch ${remotePath}`);
  }

  async stat(
    remotePath: string,
    opts: { become?: string; signal?: AbortSignal; withSha1?: boolean; follow?: boolean } = {},
  ): Promise<RemoteFileInfo> {
    const args = [remotePath, opts.withSha1 === false ? '' : '1', opts.follow ? '1' : ''];
    const r = await this.run(['sh', '-c', STAT_SCRIPT, 'sh', ...args], {
      become: opts.become,
      signal: opts.signal,
      timeoutMs: 120_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('STAT '));
    if (r.rc !== 0 || line === undefined) {
      throw remoteError(this.name, `stat ${remotePath}`, r.stderr || r.stdout, this.becomeFor(opts.become));
    }
    const [, exists, type, size, mode, sha] = line.split(' ');
    if (exists !== '1') return { exists: false, type: null, size: null, mode: null, sha1sum: null };
    return {
      exists: true,
      type: type === 'file' || type === 'directory' || type === 'symlink' ? type : 'other',
      size: size !== undefined && /^\d+$/.test(size) ? Number(size) : null,
      mode: mode !== undefined && /^[0-7]+$/.test(mode) ? mode.padStart(4, '0') : null,
      sha1sum: sha !== undefined && /^[0-9a-f]{40}$/.test(sha) ? sha : null,
    };
  }

  /**
   * Clean-up talks to the host only while it answers: a frozen host (or a dead link keepalive
   * has not noticed yet) must not hold the run for the sum of every clean-up's timeout. Once
   * the session is closed, the wrapper on the host stops whatever is left (SESSION_WRAPPER).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    let answering = await this.settleCurrent();
    if (answering && this.dead === null && this.temps.size > 0) {
      const paths = [...this.temps];
      const removed = this.run(['rm', '-rf', '--', ...paths], { timeoutMs: 10_000 }).then(
        () => true,
        () => true,
      );
      answering = await Promise.race([removed, this.silence(CLOSE_SILENCE_MS).then(() => false)]);
      for (const p of paths) this.temps.delete(p);
    }
    this.closed = true;
    if (this.dead === null) {
      this.proc.stdin.end('exit 0\n');
      if (answering) await Promise.race([this.proc.exit.catch(() => {}), sleepMs(3000)]);
      this.proc.kill();
    }
    if (answering && this.killers.size > 0) {
      // transport.close() kills every process it started, the sweep too: let it finish first.
      await Promise.race([Promise.allSettled([...this.killers]), sleepMs(KILL_GRACE_MS + 5000)]);
    }
    await this.transport.close();
  }

  /**
   * Stops the command in flight, if any, and waits for it to end. False when the host stays
   * silent for CLOSE_SILENCE_MS meanwhile (nothing from the shell or the kill sweep): it is
   * not answering, so waiting longer would only delay the run.
   */
  private async settleCurrent(): Promise<boolean> {
    const cur = this.current;
    if (cur === null || this.dead !== null) return true;
    this.requestStop(cur, 'cancelled');
    const since = Date.now();
    this.lastHeard = Math.max(this.lastHeard, since);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the output handler sets `dead` while this sleeps
    while (this.current === cur && this.dead === null) {
      // A sweep that has started on the host proves it answers, however long the command takes to stop.
      const silent = !cur.sweepHeard && Date.now() - this.lastHeard > CLOSE_SILENCE_MS;
      if (silent || Date.now() - since > KILL_GRACE_MS + 5000) return false;
      await sleepMs(50);
    }
    return true;
  }

  /** Resolves once nothing has come from the host for `ms` (checked every 50 ms). */
  private async silence(ms: number): Promise<void> {
    this.lastHeard = Math.max(this.lastHeard, Date.now());
    while (Date.now() - this.lastHeard <= ms) await sleepMs(50);
  }

  /** Remote temp files not yet renamed into place; close() removes what is left. */
  get pendingTemps(): ReadonlySet<string> {
    return this.temps;
  }

  private transferContext(): TransferContext {
    return {
      transport: this.transport,
      hostName: this.name,
      registerTemp: (p) => this.temps.add(p),
      unregisterTemp: (p) => this.temps.delete(p),
      ensureAlive: () => {
        if (this.dead !== null) throw this.dead;
      },
    };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /** `line` builds the shell text from the command's marker prefix (token:seq). */
  private async exec(argv: string[], opts: RunOptions, line = (t: string): string => this.commandLine(t, argv, opts)): Promise<RunResult> {
    // A kill sweep stops the shell's children, whatever command they are: the next one waits.
    if (this.killers.size > 0) await Promise.allSettled([...this.killers]);
    if (this.dead !== null) return Promise.reject(this.dead);
    const desc = truncate(shJoin(argv), 120);
    if (opts.signal?.aborted) return Promise.reject(new HostError('cancelled', `${this.name}: ${desc} was cancelled`));
    const seq = ++this.seq;
    let text: string;
    try {
      text = line(`${this.token}:${seq}`);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<RunResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        if (this.current?.seq === seq) this.requestStop(this.current, 'cancelled');
      };
      const cur: Current = {
        seq,
        desc,
        stdout: [],
        stdoutBytes: 0,
        maxStdout: opts.maxStdout ?? this.defaultMaxStdout,
        stderr: [],
        stderrBytes: 0,
        stderrDecoder: new StringDecoder('utf8'),
        stderrLines: opts.onStderr !== undefined ? new StderrLines(opts.onStderr) : undefined,
        pid: null,
        rc: null,
        errEnded: false,
        stop: null,
        timeoutMs: opts.timeoutMs,
        become: opts.become,
        killRequested: false,
        sweepHeard: false,
        settle: (err, r) => {
          if (timer !== undefined) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (this.current === cur) this.current = null;
          if (err !== null) reject(err);
          else resolve(r!);
        },
      };
      this.current = cur;
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => this.requestStop(cur, 'timeout'), opts.timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.proc.stdin.write(text);
    });
  }

  /**
   * The command runs in the foreground, a child of the session shell, with stdin from /dev/null
   * or its feed (never the shell's own script). The pid line names the shell: a stop sweeps its
   * children (KILL_SCRIPT's `kids`). Where it can, the program starts as a simple command with
   * its path, which dash starts with vfork: a subshell's fork costs a virtualised host ~2 ms of
   * CPU more per command (docs/transports.md#the-long-lived-session-and-why-it-is-fast).
   */
  private commandLine(t: string, argv: string[], opts: RunOptions): string {
    let words = argv;
    let env: Array<[string, string]> = [];
    let feed = opts.stdin === undefined ? undefined : stdinFeeder(opts.stdin);
    if (opts.env !== undefined && Object.keys(opts.env).length > 0) {
      const entries = Object.entries(opts.env);
      for (const [k] of entries) {
        if (!ENV_NAME.test(k)) {
          throw new HostError('failed', `${this.name}: invalid environment variable name ${JSON.stringify(k)}`);
        }
      }
      // Values (secrets among them) are in no process's argv: in the command's environment, or,
      // since sudo resets the environment, read from stdin under sudo (become-env.ts).
      if (opts.become === undefined) env = entries;
      else {
        const header = `printf '%s' ${shQuote(envHeader(entries, feed !== undefined))}`;
        feed = feed === undefined ? header : `{ ${header}; ${feed}; }`;
        words = ['sh', '-c', ENV_READER, 'sh', ...words];
      }
    }
    if (opts.become !== undefined) words = ['sudo', '-n', '-u', opts.become, '--', ...words];
    // `exec` makes a name like `cd` or `exit` run as the program, never as a shell builtin.
    let inner = `exec ${shJoin(words)}`;
    if (opts.cwd !== undefined) inner = `cd ${shQuote(opts.cwd)} && ${inner}`;
    inner = `${env.map(([k, v]) => `${k}=${shQuote(v)}; export ${k}; `).join('')}${inner}`;
    let job = feed === undefined ? `( ${inner} ) </dev/null` : `${feed} | ( ${inner} )`;
    if (feed === undefined && opts.cwd === undefined && !env.some(([k]) => k === 'PATH')) {
      const assign = env.map(([k, v]) => `${k}=${shQuote(v)} `).join('');
      const [name = '', ...args] = words;
      const rest = args.length > 0 ? ` ${shJoin(args)}` : '';
      job = name.includes('/')
        ? `${assign}${shJoin(words)} </dev/null`
        : `__cs_x ${shQuote(name)}; if [ -n "$__cs_c" ]; then ${assign}"$__cs_c"${rest} </dev/null; else ${job}; fi`;
    }
    return `printf '${t}:pid:%s\\n' "$$" >&2; ${job}; __cs_r=$?; ` + `printf '${t}:end:%s\\n' "$__cs_r"; printf '${t}:end\\n' >&2\n`;
  }

  private onStdout(d: Buffer): void {
    const cur = this.current;
    if (cur === null || cur.stop === 'overflow') return;
    cur.stdoutBytes += d.length;
    if (cur.stdoutBytes > cur.maxStdout) {
      cur.stdout = [];
      this.requestStop(cur, 'overflow');
      return;
    }
    cur.stdout.push(d);
  }

  private onStderrData(d: Buffer): void {
    const cur = this.current;
    if (cur === null) return;
    if (cur.stderrLines !== undefined) cur.stderrLines.write(cur.stderrDecoder.write(d));
    cur.stderr.push(d);
    cur.stderrBytes += d.length;
    while (cur.stderrBytes - (cur.stderr[0]?.length ?? 0) >= STDERR_TAIL && cur.stderr.length > 1) {
      cur.stderrBytes -= cur.stderr.shift()!.length;
    }
  }

  private onMarker(body: string, stream: 'out' | 'err'): void {
    const m = /^(\d+):(pid|end)(?::(\d+))?$/.exec(body);
    const cur = this.current;
    if (m === null || Number(m[1]) !== cur?.seq) return;
    if (m[2] === 'pid') {
      cur.pid = Number(m[3]);
      if (cur.stop !== null && !cur.killRequested) this.killRemote(cur);
      return;
    }
    if (stream === 'out') cur.rc = Number(m[3] ?? 255);
    else cur.errEnded = true;
    if (cur.rc !== null && cur.errEnded) this.finish(cur);
  }

  private finish(cur: Current): void {
    cur.stderrLines?.end(cur.stderrDecoder.end());
    switch (cur.stop) {
      case null: {
        let stderrBuf: Buffer = Buffer.concat(cur.stderr);
        if (stderrBuf.length > STDERR_TAIL) stderrBuf = charBoundary(stderrBuf.subarray(stderrBuf.length - STDERR_TAIL));
        const stdout = strictUtf8(Buffer.concat(cur.stdout));
        const stderr = strictUtf8(stderrBuf);
        if (typeof stdout !== 'string' || typeof stderr !== 'string') {
          const [stream, at] = typeof stdout !== 'string' ? ['stdout', stdout.at] : ['stderr', (stderr as { at: number }).at];
          // Results are JSON text: replacing bytes silently would hand back data the host never sent.
          cur.settle(
            new HostError(
              'invalid_result',
              `${this.name}: ${cur.desc}: its ${stream} is not valid UTF-8 text (bad byte at offset ${at}); ` +
                `results are text: encode binary output (e.g. base64) or fetch the file instead`,
            ),
          );
          return;
        }
        cur.settle(null, { stdout, stderr, rc: cur.rc ?? 255 });
        return;
      }
      case 'timeout':
        cur.settle(new HostError('timeout', `${this.name}: ${cur.desc} timed out after ${formatDuration(cur.timeoutMs ?? 0)}`));
        return;
      case 'cancelled':
        cur.settle(new HostError('cancelled', `${this.name}: ${cur.desc} was cancelled`));
        return;
      case 'overflow':
        cur.settle(
          new HostError(
            'invalid_result',
            `${this.name}: ${cur.desc}: output larger than ${formatBytes(cur.maxStdout)}; the command was stopped`,
          ),
        );
        return;
      default: {
        const never: never = cur.stop;
        throw new Error(`unknown stop reason ${String(never)}`);
      }
    }
  }

  private requestStop(cur: Current, reason: StopReason): void {
    if (cur.stop !== null) return;
    cur.stop = reason;
    if (cur.pid !== null) this.killRemote(cur);
  }

  /**
   * The session shell is busy in `wait`, so the kill goes through a separate process.
   * It stops the command and its descendants: TERM, then KILL after a grace period.
   */
  private killRemote(cur: Current): void {
    cur.killRequested = true;
    const argv = ['sh', '-c', KILL_SCRIPT, 'sh', String(cur.pid), String(Math.ceil(KILL_GRACE_MS / 100)), 'kids'];
    let p: RemoteProcess;
    try {
      p = this.transport.spawn(cur.become !== undefined ? ['sudo', '-n', '--', ...argv] : argv);
    } catch {
      return;
    }
    p.stdin.end();
    // The sweep says it started: proof the host answers while the command takes its time to stop.
    p.stdout.on('data', () => {
      this.lastHeard = Date.now();
      cur.sweepHeard = true;
    });
    p.stderr.resume();
    const swept = p.exit.catch(() => {});
    this.killers.add(swept);
    void swept.finally(() => this.killers.delete(swept));
    const watchdog = (): void => {
      // The shell should report the end at once after the kill; if it cannot, it is stuck.
      setTimeout(() => {
        if (this.current === cur) {
          this.die(new HostError('connection_lost', `${this.name}: the remote shell did not recover after stopping ${cur.desc}`));
          this.proc.kill();
        }
      }, 5000).unref();
    };
    p.exit.then(watchdog, watchdog);
  }

  private die(err: HostError): void {
    if (this.dead !== null) return;
    this.dead = err;
    const cur = this.current;
    if (cur !== null) {
      this.current = null;
      cur.settle(err);
    }
  }
}

/** Feeds exact bytes to a command's stdin; NUL cannot sit in a shell word, so it is printed apart. */
function stdinFeeder(data: string): string {
  const parts = data.split('\0');
  if (parts.length === 1) return `printf '%s' ${shQuote(data)}`;
  return `{ ${parts.map((p) => `printf '%s' ${shQuote(p)}`).join(`; printf '\\000'; `)}; }`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
