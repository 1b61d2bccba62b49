/**
 * Streamed put and fetch over any Transport. Bulk data never goes through the command
 * shell: each transfer is its own spawned `sh -c SCRIPT` whose values arrive as positional
 * arguments (never spliced into the script). Memory stays flat in the file's size: data is
 * piped with backpressure and only a sha1 state is kept. Files appear whole or not at all
 * (temp file beside the destination, sha1 compared, then rename).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, unlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HostError } from '../errors.js';
import { formatDuration } from '../lang/durations.js';
import type { FetchValue, PutValue, TransferOptions } from './session.js';
import { fetchedMode } from './fetched-mode.js';
import { remoteError } from './remote-error.js';
import { PSTAT_FN, SHA1_FN } from './session-scripts.js';
import type { RemoteProcess, Transport } from './types.js';
import { onUrgentExit } from './urgent-exit.js';

export interface TransferContext {
  transport: Transport;
  hostName: string;
  /** Remote temp files are registered until renamed, so close()/SIGINT can remove leftovers. */
  registerTemp(path: string): void;
  unregisterTemp(path: string): void;
  /** Throws the session's connection_lost error when the host is gone. */
  ensureAlive(): void;
}

/** Prefix of every temp file made beside a destination (a later run may clean stale ones). */
export const TEMP_PREFIX = '.chopsticks-tmp-';

/**
 * $1 to ('' = fresh temp path), $2 mode as `stat -c %a` prints it, $3 local sha1,
 * $4 file name, $5 '1' = check only, $6 random value, $7 size in bytes. Speaks records on
 * stdout, each `$6 WORD rest` ended by a NUL (a path may hold a newline, never a NUL):
 * SAME dest | DIFF dest | SEND tmp (then reads the bytes) → DONE dest | MISMATCH sha. The random
 * value anchors each record: whatever else the host prints (a login banner before every
 * command) is not a record and is skipped.
 */
const PUT_SCRIPT = `${SHA1_FN}${PSTAT_FN}
to=$1; mode=$2; want=$3; base=$4; check=$5; rnd=$6; size=$7
# Stopped (an interrupt, a timeout): what this script made goes with it. The controller may not
# have heard of it: the record that names it can be lost with the channel.
tmp=; mine=
trap '[ -z "$tmp" ] || rm -f "$tmp"; [ -z "$mine" ] || rm -rf "$mine"; exit 143' HUP INT TERM
if [ -z "$to" ]; then
  d=\${TMPDIR:-/tmp}/chopsticks-$rnd
  if [ -n "$check" ]; then printf '%s DIFF %s\\0' "$rnd" "$d/$base"; exit 0; fi
  mkdir -m 700 "$d" || exit 1
  mine=$d
  dest=$d/$base
else
  case $to in */) dest=$to$base;; *) dest=$to;; esac
fi
# In the folder / a relative path is /rel, not //rel.
case $dest in /*) ;; *) w=$(pwd); dest=\${w%/}/$dest;; esac
dir=\${dest%/*}; [ -z "$dir" ] && dir=/
if [ -d "$dest" ]; then echo "$dest: Is a directory" >&2; exit 1; fi
if [ -f "$dest" ]; then
  cm=$(stat -c %a "$dest" 2>/dev/null) || cm=
  if [ -r "$dest" ] && sha "$dest" && [ "$h" = "$want" ] && [ "$cm" = "$mode" ]; then printf '%s SAME %s\\0' "$rnd" "$dest"; exit 0; fi
fi
if [ -n "$check" ]; then
  # What the run would meet: the nearest folder that exists must be a folder it can write in.
  a=$dir; while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=\${a%/*}; [ -n "$a" ] || a=/; done
  if [ ! -d "$a" ]; then echo "$a: Not a directory" >&2; exit 1; fi
  if [ ! -w "$a" ]; then echo "$a: Permission denied" >&2; exit 1; fi
  printf '%s DIFF %s\\0' "$rnd" "$dest"; exit 0
fi
# Every process costs a host CPU time: mkdir and find run only when there is work for them.
[ -d "$dir" ] || mkdir -p "$dir" || exit 1
# Leftovers of uploads that died with their connection: the name holds the pid of the shell
# that wrote it (this one's $$), so a file whose writer is gone is stale, however fresh.
left=
for f in "$dir"/${TEMP_PREFIX}*; do
  [ -f "$f" ] || continue
  w=\${f##*/${TEMP_PREFIX}}; w=\${w%%-*}
  case $w in ''|*[!0-9]*) left=1; continue;; esac
  [ -d /proc/self ] || { left=1; continue; }
  # A writer that died but was not reaped (no init to do it: a container, a host whose pid 1
  # reaps lazily) is a zombie: gone all the same.
  if pstat "$w"; then case $st in Z|X) ;; *) left=1; continue;; esac; fi
  rm -f "$f"
done
# Without /proc (or for names without a pid), an upload in progress keeps its mtime fresh.
[ -z "$left" ] || find "$dir" -maxdepth 1 -name '${TEMP_PREFIX}*' -type f -mmin +60 -exec rm -f {} + 2>/dev/null
tmp=$dir/${TEMP_PREFIX}$$-$rnd
( umask 077; set -C; : > "$tmp" ) || exit 1
printf '%s SEND %s\\0' "$rnd" "$tmp"
# One pass: tee writes the file and feeds the hash. What comes back is tee's status (printed
# before the hash, which only ends once tee's side of the pipe is closed), then the hash.
set -- $( { { tee "$tmp"; echo "$?" >&3; } | sin; } 3>&1 )
if [ "$1" != 0 ] || [ -z "$2" ]; then
  # busybox's tee says "I/O error" for a full disk: name the cause while the file still fills it.
  set -- $(df -Pk "$dir" 2>/dev/null | tail -n 1)
  rm -f "$tmp"
  case $4 in ''|*[!0-9]*) ;; *) [ "$4" -lt 64 ] && echo "$dir: No space left on device" >&2;; esac
  echo "write error" >&2; exit 1
fi
h=$2
# A connection that dies mid-upload looks like a clean EOF to tee: a short file is never kept.
got=$(stat -c %s "$tmp" 2>/dev/null) || got=$(wc -c < "$tmp"); got=$(echo $got)
if [ "$got" != "$size" ]; then rm -f "$tmp"; echo "upload cut short: $got of $size bytes arrived" >&2; exit 1; fi
if [ "$h" != "$want" ]; then rm -f "$tmp"; printf '%s MISMATCH %s\\0' "$rnd" "$h"; exit 3; fi
chmod "$mode" "$tmp" || { rm -f "$tmp"; exit 1; }
mv -f "$tmp" "$dest" || { rm -f "$tmp"; exit 1; }
printf '%s DONE %s\\0' "$rnd" "$dest"
`;

/**
 * $1 path, $2 random value. Prints `$2 INFO size pwd` and a NUL (pwd may hold a newline; output
 * before the random value, such as a login banner, is skipped), the raw bytes, then
 * `SHA1 digest` and a NUL. The digest is made by a second reader of the file while cat sends
 * it, and comes back through the command substitution while the bytes go to fd 4, the script's
 * stdout. Two reads from the page cache cost the host less than tee feeding sha1sum through a
 * pipe, and no temp file is needed (docs/transports.md#transfers-put-and-fetch); a file that
 * changes meanwhile gives the two readers different bytes, which the controller sees as a
 * mismatch.
 */
const FETCH_SCRIPT = `${SHA1_FN}
p=$1; rnd=$2
# A relative path named like an option ("-x") must not reach stat or cat as one.
case $p in -*) p=./$p;; esac
if [ ! -e "$p" ]; then echo "$p: No such file or directory" >&2; exit 2; fi
if [ -d "$p" ]; then echo "$p: Is a directory, not a file" >&2; exit 1; fi
if [ ! -r "$p" ]; then echo "$p: Permission denied" >&2; exit 1; fi
s=$(stat -L -c %s "$p" 2>/dev/null) || { s=$(wc -c < "$p") && s=$(echo $s); } || exit 1
printf '%s INFO %s %s\\0' "$rnd" "$s" "$PWD"
exec 4>&1
h=$(sin < "$p" & w=$!; cat "$p" >&4 4>&- || { kill $w 2>/dev/null; exit 1; }; wait $w) || exit 1
printf 'SHA1 %s\\0' "\${h%% *}"
`;

export async function putFile(
  ctx: TransferContext,
  localPath: string,
  remotePath: string | undefined,
  mode: number,
  opts: TransferOptions,
  checkOnly: boolean,
): Promise<PutValue> {
  ctx.ensureAlive();
  const what = opts.what ?? `put ${localPath} → ${remotePath ?? '(temporary path)'}`;
  const local = resolve(localPath);
  let size: number;
  let st: Stats;
  try {
    st = await stat(local);
    if (!st.isFile()) throw new HostError('failed', `${ctx.hostName}: ${what}: ${local} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof HostError) throw e;
    throw localError(ctx.hostName, what, e);
  }
  const sha1sum = await localSha1(local, st).catch((e: unknown) => {
    throw localError(ctx.hostName, what, e);
  });
  const rnd = randomBytes(8).toString('hex');
  const modeText = (mode & 0o7777).toString(8);
  const proc = spawnScript(
    ctx,
    PUT_SCRIPT,
    [remotePath ?? '', modeText, sha1sum, basename(local), checkOnly ? '1' : '', rnd, String(size)],
    opts,
  );

  return supervise(ctx, proc, what, opts, async (lines, stderr) => {
    let temp: string | null = null;
    let sent: Promise<void> | null = null;
    let dest: string | null = null;
    let changed = true;
    let mismatch: string | null = null;
    for await (const record of lines) {
      const at = record.lastIndexOf(`${rnd} `);
      if (at < 0) continue; // not ours: what the host's shell printed around the script
      const line = record.slice(at + rnd.length + 1);
      const sp = line.indexOf(' ');
      const word = sp < 0 ? line : line.slice(0, sp);
      const rest = sp < 0 ? '' : line.slice(sp + 1);
      if (word === 'SAME') {
        dest = rest;
        changed = false;
      } else if (word === 'DIFF' || word === 'DONE') {
        dest = rest;
      } else if (word === 'MISMATCH') {
        mismatch = rest;
      } else if (word === 'SEND') {
        // Without a destination the file sits in a private folder made for it: that goes too.
        temp = remotePath === undefined ? posix.dirname(rest) : rest;
        ctx.registerTemp(temp);
        sent = sendFile(local, proc, size, opts);
        // An upload that fails locally must not look like a clean EOF to the remote `cat`.
        sent.catch(() => proc.kill());
      }
    }
    const { code } = await proc.exit;
    if (sent !== null)
      await sent.catch((e: unknown) => {
        if (code === 0) throw localError(ctx.hostName, what, e);
      });
    // The script removes its temp file when it fails (exit 1 or 3), but not the private folder.
    if (temp !== null && (code === 0 || (remotePath !== undefined && (mismatch !== null || code === 1)))) ctx.unregisterTemp(temp);
    if (mismatch !== null) {
      throw new HostError(
        'checksum_mismatch',
        `${ctx.hostName}: ${what}: the uploaded file's sha1 ${mismatch} differs from the local ${sha1sum}; the destination was left as it was`,
      );
    }
    if (code !== 0 || dest === null) throw remoteError(ctx.hostName, what, stderr() || silentExit(code, opts.become), opts.become);
    return { remote_path: dest, size, sha1sum, changed };
  });
}

export async function fetchFile(
  ctx: TransferContext,
  remotePath: string,
  localPath: string | undefined,
  opts: TransferOptions,
): Promise<FetchValue> {
  ctx.ensureAlive();
  const what = opts.what ?? `fetch ${remotePath}`;
  let dest: string;
  try {
    if (localPath === undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'chopsticks-fetch-'));
      dest = join(dir, posix.basename(remotePath) || 'file');
    } else {
      dest = resolve(localPath);
      await mkdir(dirname(dest), { recursive: true });
    }
  } catch (e) {
    throw localError(ctx.hostName, what, e, localPath);
  }
  const tmp = join(dirname(dest), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  let fh;
  try {
    fh = await open(tmp, 'wx', 0o600);
  } catch (e) {
    throw localError(ctx.hostName, what, e, dest);
  }
  const dropUrgent = onUrgentExit(() => unlinkSync(tmp));
  const rnd = randomBytes(8).toString('hex');
  const proc = spawnScript(ctx, FETCH_SCRIPT, [remotePath, rnd], opts);
  const splitter = new FetchFramer(rnd, opts.onProgress);
  // Small buffers on the way to the file (the framer keeps the default 16 KiB; the ssh channel's
  // are in ssh/process.ts): with 1 MiB at each stage the bytes left the CPU cache before they were
  // hashed, and a 10-host fetch took far more memory (docs/transports.md#transfers-put-and-fetch).
  const file = fh.createWriteStream({ highWaterMark: 256 * 1024 });
  let stderrText = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => {
    stderrText = (stderrText + s).slice(-65536);
  });
  try {
    // A local write error (a full disk) must stop the remote side too: otherwise it blocks on a
    // pipe nobody reads and the fetch never settles.
    const piped = pipeline(proc.stdout, splitter, file).catch((e: unknown) => {
      proc.kill();
      throw e;
    });
    const outcome = await withLimits(ctx, proc, what, opts, async () => {
      const [, ex] = await Promise.all([piped.catch((e: unknown) => e), proc.exit]);
      return ex;
    });
    await piped.catch((e: unknown) => {
      if (e instanceof HostOutputError) throw new HostError('failed', `${ctx.hostName}: ${what}: ${e.message}`);
      throw localError(ctx.hostName, what, e, dest);
    });
    if (outcome.code !== 0 || splitter.header === null)
      throw remoteError(ctx.hostName, what, stderrText || silentExit(outcome.code, opts.become), opts.become);
    const { size, pwd } = splitter.header;
    if (splitter.bytes !== size || splitter.trailer !== `SHA1 ${splitter.sha1()}`) {
      const remoteSha = splitter.trailer?.startsWith('SHA1 ') ? `sha1 ${splitter.trailer.slice(5)}` : 'no sha1';
      throw new HostError(
        'checksum_mismatch',
        `${ctx.hostName}: ${what}: received ${splitter.bytes} bytes with sha1 ${splitter.sha1()}, the remote file had ${size} bytes and sent ${remoteSha} (did it change during the transfer?)`,
      );
    }
    // The temp file was private while it filled; the file it becomes gets the mode scp gives.
    await chmod(tmp, await fetchedMode(dest, dirname(dest), TEMP_PREFIX));
    await rename(tmp, dest);
    return {
      local_path: dest,
      remote_path: remotePath.startsWith('/') ? remotePath : posix.join(pwd, remotePath),
      size,
      sha1sum: splitter.sha1(),
    };
  } catch (e) {
    file.destroy();
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    dropUrgent();
  }
}

/** What the host printed is not what FETCH_SCRIPT prints (an error of the host's, not of this machine). */
class HostOutputError extends Error {}

/** `INFO size pwd`: the pwd may hold spaces. */
function parseHeader(line: string): { size: number; pwd: string } | null {
  const m = /^INFO (\d+) ([^]*)$/.exec(line);
  return m ? { size: Number(m[1]), pwd: m[2]! } : null;
}

/**
 * Splits what FETCH_SCRIPT prints: `INFO size pwd` and a NUL, `size` bytes (passed on, hashed
 * and counted as they go), then the trailer `SHA1 digest` and a NUL. A file that grew while it
 * was sent shows as bytes in the trailer, one that shrank as a missing trailer: both fail the
 * comparison in fetchFile.
 */
class FetchFramer extends Transform {
  header: { size: number; pwd: string } | null = null;
  /** Data bytes received, those beyond `size` included. */
  bytes = 0;
  trailer: string | null = null;
  private headBuf: Buffer = Buffer.alloc(0);
  private tail: Buffer = Buffer.alloc(0);
  private readonly hash = createHash('sha1');
  private digest: string | null = null;

  private readonly anchor: Buffer;

  constructor(
    rnd: string,
    private readonly onProgress?: (bytes: number, total: number | null) => void,
  ) {
    super();
    this.anchor = Buffer.from(`${rnd} INFO `);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.header === null) {
      this.headBuf = this.headBuf.length === 0 ? chunk : Buffer.concat([this.headBuf, chunk]);
      // Whatever precedes the anchor (a login banner) is not ours and is dropped.
      const start = this.headBuf.indexOf(this.anchor);
      const nul = start < 0 ? -1 : this.headBuf.indexOf(0x00, start);
      if (nul < 0) {
        if (this.headBuf.length > 65536) {
          cb(
            new HostOutputError(
              `the host sent no file header; its output starts ${JSON.stringify(this.headBuf.subarray(0, 100).toString('utf8'))}`,
            ),
          );
        } else cb();
        return;
      }
      const line = this.headBuf.subarray(start + this.anchor.length - 5, nul).toString('utf8');
      this.header = parseHeader(line);
      if (this.header === null) {
        cb(new HostOutputError(`unexpected file header from the host: ${line.slice(0, 100)}`));
        return;
      }
      chunk = this.headBuf.subarray(nul + 1);
      this.headBuf = Buffer.alloc(0);
    }
    const want = this.header.size - Math.min(this.bytes, this.header.size);
    const data = chunk.length <= want ? chunk : chunk.subarray(0, want);
    if (data.length > 0) {
      this.hash.update(data);
      this.bytes += data.length;
      this.onProgress?.(this.bytes, this.header.size);
      this.push(data);
    }
    if (data.length < chunk.length) {
      // Past the announced size: the trailer, or bytes of a file that grew (kept small).
      this.tail = Buffer.concat([this.tail, chunk.subarray(data.length)]);
      if (this.tail.length > 4096) {
        this.bytes += this.tail.length - 4096;
        this.tail = this.tail.subarray(this.tail.length - 4096);
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const m = /^SHA1 ([0-9a-f]{40})\0$/.exec(this.tail.toString('latin1'));
    if (m) this.trailer = `SHA1 ${m[1]!}`;
    else this.bytes += this.tail.length;
    cb();
  }

  sha1(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

function spawnScript(ctx: TransferContext, script: string, args: string[], opts: TransferOptions): RemoteProcess {
  const argv = ['sh', '-c', script, 'sh', ...args];
  return ctx.transport.spawn(opts.become !== undefined ? ['sudo', '-n', '-u', opts.become, '--', ...argv] : argv);
}

/** Runs `body` with the transfer's timeout and abort signal; either kills the process. */
async function withLimits<T>(
  ctx: TransferContext,
  proc: RemoteProcess,
  what: string,
  opts: TransferOptions,
  body: () => Promise<T>,
): Promise<T> {
  let stopped = null as HostError | null; // `as`: stop() sets it while body() runs
  const stop = (err: HostError): void => {
    if (stopped !== null) return;
    stopped = err;
    proc.kill();
  };
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(
          () => stop(new HostError('timeout', `${ctx.hostName}: ${what} timed out after ${formatDuration(opts.timeoutMs!)}`)),
          opts.timeoutMs,
        )
      : undefined;
  const onAbort = (): void => stop(new HostError('cancelled', `${ctx.hostName}: ${what} was cancelled`));
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await body().catch((e: unknown) => {
      throw stopped ?? e;
    });
    if (stopped !== null) throw stopped;
    return r;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * What a transfer that ended without a word on stderr says: a program that could not start
 * (docker exec reports a missing `sudo` on its own stream, not the command's stderr).
 */
function silentExit(code: number | null, become: string | undefined): string {
  const sudo = become !== undefined ? `; become: ${become} runs it through sudo, which the host may not have` : '';
  if (code === 127) return `exit 127: a program it needs is missing on the host${sudo}`;
  if (code === 126) return `exit 126: a program it needs cannot be run on the host${sudo}`;
  return code === null ? '' : `exit ${code}`;
}

/** Record-protocol transfers: feeds stdout records (NUL-ended) to `body` and keeps a stderr tail for errors. */
async function supervise<T>(
  ctx: TransferContext,
  proc: RemoteProcess,
  what: string,
  opts: TransferOptions,
  body: (lines: AsyncIterable<string>, stderr: () => string) => Promise<T>,
): Promise<T> {
  let stderrText = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => {
    stderrText = (stderrText + s).slice(-65536);
  });
  proc.stdout.setEncoding('utf8');
  async function* lines(): AsyncGenerator<string> {
    let buf = '';
    for await (const chunk of proc.stdout as AsyncIterable<string>) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\0')) >= 0) {
        yield buf.slice(0, nl);
        buf = buf.slice(nl + 1);
      }
    }
    if (buf !== '') yield buf;
  }
  // A killed upload may leave its remote temp file: it stays registered, and the session
  // removes it when it closes.
  return withLimits(ctx, proc, what, opts, () => body(lines(), () => stderrText));
}

async function sendFile(local: string, proc: RemoteProcess, total: number, opts: TransferOptions): Promise<void> {
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      opts.onProgress?.(sent, total);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(local, { highWaterMark: 256 * 1024 }), counter, proc.stdin);
}

/**
 * The sha1 of a local file, computed once per version of the file for the whole process: a put
 * to 200 hosts reads and hashes the file once, not 200 times. A version is the file's identity,
 * size and mtime, so an edited file is hashed again.
 */
const localSha1s = new Map<string, Promise<string>>();
function localSha1(path: string, st: Stats): Promise<string> {
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${path}`;
  let p = localSha1s.get(key);
  if (!p) {
    p = sha1File(path);
    localSha1s.set(key, p);
    p.catch(() => localSha1s.delete(key));
  }
  return p;
}

export async function sha1File(path: string): Promise<string> {
  const h = createHash('sha1');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** Errors of the controller's own disk while writing: a full disk is the usual one. */
const LOCAL_WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EROFS: 'Read-only file system',
  EIO: 'Input/output error',
  EFBIG: 'File too large',
};

/** `path`: the local file being written, named in messages (Node leaves it out of write errors). */
function localError(host: string, what: string, e: unknown, path?: string): HostError {
  const err = e as Partial<NodeJS.ErrnoException>;
  const io = err.code !== undefined ? LOCAL_WRITE_ERRORS[err.code] : undefined;
  if (io !== undefined) {
    const where = path ?? err.path ?? 'a local file';
    return new HostError(
      'remote_io',
      `${host}: ${what}: cannot write ${where} on this machine: ${io} (${err.code}); nothing was kept. Free space there or choose another destination.`,
    );
  }
  const kind = err.code === 'ENOENT' ? 'not_found' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission_denied' : 'failed';
  return new HostError(kind, `${host}: ${what}: local ${err.message ?? String(e)}`);
}
