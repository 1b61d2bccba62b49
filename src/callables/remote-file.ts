/**
 * What `file` and `line` need of a remote path: its state (without following a symlink), its
 * text, and an atomic write through the session's put (temp file beside it, sha1, rename).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError, PERMISSION_TEXT, WRITE_ERROR_TEXT } from '../errors.js';
import type { CallContext } from './types.js';
import { baseRunOptions, stderrTail } from './run-opts.js';

export interface PathState {
  type: 'file' | 'directory' | 'link' | 'other';
  /** Permission bits, e.g. 0o644. */
  mode: number;
  /** Owner and group as names (the id itself when the host has no name for it) and as ids. */
  owner: string;
  group: string;
  uid: string;
  gid: string;
  /** Where a symlink points (as written). */
  target?: string;
}

/** A path as an argv word that never reads as an option. */
export function argPath(p: string): string {
  return p.startsWith('-') ? `./${p}` : p;
}

/** The path's state, or null when nothing is there. A symlink is described itself, not followed. */
export async function lstatPath(ctx: CallContext, name: string, path: string): Promise<PathState | null> {
  const r = await ctx.session.run(['stat', '-c', '%F|%a|%U|%G|%u|%g', argPath(path)], baseRunOptions(ctx, { onStderr: () => {} }));
  if (r.rc !== 0) {
    // Only stat's own word that the path is missing: any "not found" (a shell's "sudo: not found")
    // taken as one made check mode say "would create" where the run could not.
    if (isMissingPath(r.stderr)) return null;
    throw new HostError('failed', `${ctx.hostName}: ${name}: cannot read ${path}: ${stderrTail(r.stderr) || `stat exited ${r.rc}`}`);
  }
  const [kind = '', mode = '0', owner = '', group = '', uid = '', gid = ''] = r.stdout.trim().split('|');
  const type = kind.includes('symbolic link')
    ? 'link'
    : kind.includes('directory')
      ? 'directory'
      : kind.includes('regular')
        ? 'file'
        : 'other';
  const st: PathState = { type, mode: parseInt(mode, 8), owner, group, uid, gid };
  if (type === 'link') {
    const l = await ctx.session.run(['readlink', argPath(path)], baseRunOptions(ctx));
    st.target = l.stdout.replace(/\n$/, '');
  }
  return st;
}

/**
 * Whether an `owner`/`group` arg names the account that has the path: chown takes a name or a
 * number, so "1001" is the owner of a file whose uid is 1001 whatever its name.
 */
export function sameAccount(wanted: string, name: string, id: string): boolean {
  return wanted === name || (/^\d+$/.test(wanted) && id !== '' && Number(wanted) === Number(id));
}

/**
 * GNU (`cannot stat`, `cannot statx`) and busybox (`can't stat`) stat on a path that is not
 * there, or under a file (`Not a directory`: the caller then says which file is in the way).
 * stat names itself as it was started: `stat` or the path the session found it at.
 */
export function isMissingPath(stderr: string): boolean {
  return /^(?:\S*\/)?stat: (?:cannot statx?|can't stat) .*: (?:No such file or directory|Not a directory)$/m.test(stderr);
}

/** Run a command that changes the host; a non-zero exit is the host's error, with its stderr. */
export async function mustRun(ctx: CallContext, name: string, argv: string[]): Promise<void> {
  const r = await ctx.session.run(argv, baseRunOptions(ctx));
  if (r.rc !== 0) {
    // As put and line classify the same stderr (transports/remote-error.ts).
    const kind = PERMISSION_TEXT.test(r.stderr) ? 'permission_denied' : WRITE_ERROR_TEXT.test(r.stderr) ? 'remote_io' : 'failed';
    throw new HostError(kind, `${ctx.hostName}: ${name}: \`${argv.join(' ')}\` exited ${r.rc}: ${stderrTail(r.stderr) || '(no stderr)'}`);
  }
}

/** A regular file's text (up to 16 MiB). */
export async function readText(ctx: CallContext, name: string, path: string): Promise<string> {
  const r = await ctx.session.run(['cat', argPath(path)], baseRunOptions(ctx, { maxStdout: 16 * 1024 * 1024 }));
  if (r.rc !== 0)
    throw new HostError('failed', `${ctx.hostName}: ${name}: cannot read ${path}: ${stderrTail(r.stderr) || `cat exited ${r.rc}`}`);
  return r.stdout;
}

/**
 * Replace the file's content atomically (the session's put: temp file beside it, sha1 checked,
 * rename). The local copy lives in a private folder (0700), as a file of mode 0600.
 */
export async function writeText(ctx: CallContext, name: string, path: string, text: string, mode: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'chopsticks-line-'));
  try {
    const file = join(dir, 'content');
    await writeFile(file, text, { mode: 0o600 });
    // Messages name the file being edited, not the private local copy.
    await ctx.session.put(file, path, mode, { become: ctx.become, signal: ctx.signal, what: `${name} ${path}` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** A mode arg ("0644", "644") → bits; undefined when absent. */
export function parseMode(ctx: CallContext, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^0?[0-7]{3,4}$/.test(v)) {
    throw new HostError('failed', `${ctx.hostName}: ${name}: mode must be a quoted octal string such as "0644", not ${JSON.stringify(v)}`);
  }
  return parseInt(v, 8);
}
