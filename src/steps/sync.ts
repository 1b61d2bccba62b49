/**
 * `sync: LOCAL_DIR` with `to`, `delete`, `exclude`, `mode`: the remote folder ends up holding the
 * local tree (docs/language.md#sync).
 *
 * Fast for many small files and atomic per file:
 *   1. ONE remote command lists every file under `to` with its sha1 and mode (find + sha1sum + stat);
 *   2. the files whose sha1 or mode differ go into ONE tar archive (tar-stream), sent with the
 *      session's put (streamed, sha1 checked);
 *   3. ONE remote command unpacks it into a staging folder inside `to` (same filesystem) and
 *      renames each file into place, so a reader sees the old file or the new one, never half;
 *      with `delete: true` it also removes the remote files that are not in the local tree.
 * Symlinks: a relative link whose target stays inside the tree is copied as a link; any other
 * link is refused (the step fails before anything is sent).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix, relative, resolve as resolvePath } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import { HostError } from '../errors.js';
import { isTemplate } from '../lang/templates.js';
import type { Json, Located } from '../model/playbook.js';
import type { HostSession } from '../transports/session.js';
import { DIFF_LIMIT, modeDiff, remoteContent, unifiedDiff } from './diff.js';
import { fillVarsOnly } from './fill-vars.js';
import { modeString, renderLocalSource, renderPath } from './paths.js';
import type { PlanStepBase, StepCommon, StepKindDef } from './types.js';

export interface SyncStep extends StepCommon {
  kind: 'sync';
  src: Located<string>;
  to: Located<string>;
  delete: boolean;
  exclude: string[];
  /** One mode for every file; undefined keeps each local file's mode. */
  mode?: number;
}

export interface PlanSync extends PlanStepBase {
  kind: 'sync';
  src: string;
  to: string;
  delete: boolean;
  exclude: string[];
  mode?: number;
}

interface LocalEntry {
  rel: string;
  abs: string;
  type: 'file' | 'link';
  mode: number;
  size: number;
  sha1: string;
  target?: string;
}

interface RemoteEntry {
  type: 'file' | 'link';
  mode?: number;
  sha1?: string;
  target?: string;
}

// Loaded on first use, not at start-up.
const load = createRequire(import.meta.url);

const isExcluded = (rel: string, patterns: readonly string[]): boolean => {
  if (patterns.length === 0) return false;
  const { minimatch } = load('minimatch') as typeof import('minimatch');
  return patterns.some((p) => minimatch(rel, p, { dot: true, matchBase: !p.includes('/') }));
};

/** Local sha1s by path, size and mtime: hashed once per version for the whole run, not per host. */
const sha1Cache = new Map<string, Promise<string>>();

function fileSha1(abs: string, size: number, mtimeMs: number): Promise<string> {
  const key = `${abs}\0${size}\0${mtimeMs}`;
  let p = sha1Cache.get(key);
  if (!p) {
    p = (async () => {
      const h = createHash('sha1');
      if (size < 1024 * 1024) h.update(await readFile(abs));
      else await pipeline(createReadStream(abs), h);
      return h.digest('hex');
    })();
    sha1Cache.set(key, p);
    p.catch(() => sha1Cache.delete(key));
  }
  return p;
}

/** The local tree, excluded paths left out, in a stable order. */
async function walkLocal(root: string, exclude: readonly string[], host: string): Promise<LocalEntry[]> {
  const out: LocalEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const rel = relative(root, abs).split(/[\\/]/).join('/');
      if (isExcluded(rel, exclude)) continue;
      if (/[\n\\]/.test(rel))
        throw new HostError('failed', `${host}: sync: ${rel}: names holding a newline or a backslash are not supported`);
      const st = await lstat(abs);
      if (st.isDirectory()) await walk(abs);
      else if (st.isFile())
        out.push({ rel, abs, type: 'file', mode: st.mode & 0o7777, size: st.size, sha1: await fileSha1(abs, st.size, st.mtimeMs) });
      else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        const inside = !posix.isAbsolute(target) && !posix.normalize(posix.join(posix.dirname(rel), target)).startsWith('..');
        if (!inside) {
          throw new HostError(
            'failed',
            `${host}: sync: ${rel} is a symlink to ${target}, outside the folder; only relative links inside the tree are copied (exclude it, or copy what it points to)`,
          );
        }
        out.push({ rel, abs, type: 'link', mode: 0o777, size: 0, sha1: '', target });
      }
    }
  };
  await walk(root);
  return out;
}

/**
 * Lists `to` in one command: P its absolute path, then F sha1 path / M mode path / L
 * target<TAB>path / D folder. A `to` still to be made needs its nearest existing folder to be
 * a folder it can write in: said now, so check mode tells what the run would meet.
 */
const LIST_SCRIPT = `case $1 in /*) p=$1;; *) w=$(pwd); p=\${w%/}/$1;; esac
printf 'P %s\\n' "$p"
if [ ! -e "$p" ] && [ ! -L "$p" ]; then
  a=\${p%/*}; while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=\${a%/*}; [ -n "$a" ] || a=/; done
  if [ ! -d "$a" ]; then echo "$a: Not a directory" >&2; exit 1; fi
  if [ ! -w "$a" ]; then echo "$a: Permission denied" >&2; exit 1; fi
  exit 0
fi
if [ ! -d "$p" ]; then echo "$p: Not a directory" >&2; exit 1; fi
# An absolute path: a relative folder named like an option ("-x") never reaches cd as one.
cd "$p" || exit 1
find . -type f -exec sha1sum {} + | sed 's/^/F /'
find . -type d | sed 's/^/D /'
find . -type f -exec stat -c 'M %a %n' {} +
find . -type l | while IFS= read -r f; do printf 'L %s\\t%s\\n' "$(readlink "$f")" "$f"; done
`;

async function listRemote(
  session: HostSession,
  to: string,
  opts: { become?: string; signal: AbortSignal; timeoutMs?: number },
  host: string,
): Promise<{ abs: string; entries: Map<string, RemoteEntry>; folders: Set<string> }> {
  const r = await session.run(['sh', '-c', LIST_SCRIPT, 'sh', to], { ...opts, maxStdout: 256 * 1024 * 1024 });
  if (r.rc !== 0)
    throw new HostError(
      r.stderr.includes('Permission denied') ? 'permission_denied' : 'failed',
      `${host}: sync into ${to}: ${r.stderr.trim() || `listing it exited ${r.rc}`} (nothing was changed)`,
    );
  const m = new Map<string, RemoteEntry>();
  const folders = new Set<string>();
  let abs = to;
  const key = (p: string) => p.replace(/^\.\//, '');
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('P ')) {
      abs = line.slice(2);
    } else if (line.startsWith('F ')) {
      const [sha1, ...rest] = line.slice(2).split('  ');
      const p = key(rest.join('  '));
      m.set(p, { ...m.get(p), type: 'file', sha1: sha1! });
    } else if (line.startsWith('M ')) {
      const sp = line.indexOf(' ', 2);
      const p = key(line.slice(sp + 1));
      m.set(p, { ...(m.get(p) ?? { type: 'file' }), mode: parseInt(line.slice(2, sp), 8) });
    } else if (line.startsWith('L ')) {
      const [target, p] = line.slice(2).split('\t') as [string, string];
      m.set(key(p), { type: 'link', target });
    } else if (line.startsWith('D ') && line !== 'D .') {
      folders.add(key(line.slice(2)));
    }
  }
  return { abs, entries: m, folders };
}

/**
 * Remove what stands in the way (the first N paths), unpack the archive into a staging folder
 * inside `to`, rename each entry into place, delete the rest of the arguments. Nothing is changed
 * before every folder it writes in is known to be writable: a refusal midway (a folder owned by
 * another user) would leave `to` partly synced.
 */
const APPLY_SCRIPT = `set -e
to=$1; tarf=$2; n=$3; shift 3
mkdir -p "$to"
refuse() { printf '%s: Permission denied (nothing was changed)\\n' "$1" >&2; exit 13; }
unwritable() { [ -d "$1" ] && [ ! -w "$1" ]; }
for f in "$@"; do
  d=\${f%/*}; if [ "$d" = "$f" ]; then d=.; fi
  if unwritable "$to/$d"; then refuse "$to/$d"; fi
done
if [ -n "$tarf" ]; then
  stage=$(mktemp -d "$to/.chopsticks-sync.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  (umask 0; tar -x -o -f "$tarf" -C "$stage")
  cd "$stage"
  find . -type d | while IFS= read -r d; do
    if [ "$d" = . ]; then t=$to; else t="$to/\${d#./}"; fi
    # A link where the tree has a folder is one of the paths removed first: not written through.
    if [ "$d" != . ] && [ -L "$t" ]; then continue; fi
    if unwritable "$t"; then refuse "$t"; fi
  done
fi
while [ "$n" -gt 0 ]; do rm -rf "$to/$1"; shift; n=$((n - 1)); done
if [ -n "$tarf" ]; then
  # One mv per folder (rename(2) per file, so each file is replaced atomically), not per file.
  find . -type d | while IFS= read -r d; do
    if [ "$d" = . ]; then t=$to; else t="$to/\${d#./}"; fi
    [ -d "$t" ] || mkdir -p "$t"
    find "$d" -maxdepth 1 ! -type d -exec sh -c 'd=$0; mv -f "$@" "$d"' "$t/" {} +
  done
  cd /
fi
for f in "$@"; do rm -f "$to/$f"; done
`;

export const syncKind: StepKindDef<SyncStep, PlanSync> = {
  kind: 'sync',
  schema: {
    key: {
      type: 'string',
      minLength: 1,
      description: 'Local folder (relative to the playbook) whose tree the remote folder `to` must hold.',
    },
    props: {
      to: { type: 'string', minLength: 1, description: 'Remote folder (made when missing).' },
      delete: {
        type: 'boolean',
        description: 'Remove remote files that are not in the local tree (false); excluded paths are never removed.',
      },
      exclude: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description:
          'Globs of relative paths left out on both sides ("*.tmp", "cache/**"); a pattern without / matches a name at any depth.',
      },
      mode: {
        type: 'string',
        pattern: '^0?[0-7]{3,4}$',
        description: 'One mode for every file, as a QUOTED octal string; by default each file keeps its local mode.',
      },
    },
    required: ['to'],
  },
  build(raw, common, ctx) {
    const src = ctx.loc('sync');
    const to = ctx.loc('to');
    if (!src || !to) return undefined;
    const mode = typeof raw.mode === 'string' && /^0?[0-7]{3,4}$/.test(raw.mode) ? parseInt(raw.mode, 8) : undefined;
    const exclude = Array.isArray(raw.exclude) ? raw.exclude.filter((x): x is string => typeof x === 'string') : [];
    return { ...common, kind: 'sync', src, to, delete: raw.delete === true, exclude, ...(mode !== undefined ? { mode } : {}) };
  },
  check(step, ctx) {
    ctx.checkTemplate(step.src.value, ['sync']);
    ctx.checkTemplate(step.to.value, ['to']);
    const filled = fillVarsOnly(step.src.value, ctx.vars);
    if (typeof filled !== 'string' || isTemplate(filled.replace(/\{\{|\}\}/g, ''))) return;
    const what = ctx.localPath(resolvePath(ctx.baseDir, filled));
    if (what === 'missing') ctx.add('file_not_found', `sync: ${filled} does not exist`, step.src.pos);
    else if (what !== 'folder')
      ctx.add('file_not_found', `sync: ${filled} is not a folder; use put: or template: for one file`, step.src.pos);
  },
  compile(step, base) {
    return {
      ...base,
      kind: 'sync',
      src: step.src.value,
      to: step.to.value,
      delete: step.delete,
      exclude: step.exclude,
      ...(step.mode !== undefined ? { mode: step.mode } : {}),
    };
  },
  describe(s, vars) {
    const extra = [
      s.delete ? 'delete' : '',
      s.exclude.length ? `exclude ${s.exclude.join(', ')}` : '',
      s.mode !== undefined ? `mode ${modeString(s.mode)}` : '',
    ].filter(Boolean);
    return [
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- plan display keeps String() of the filled value, as before
      ['sync', `${String(fillVarsOnly(s.src, vars))}/ → ${String(fillVarsOnly(s.to, vars))}${extra.length ? `, ${extra.join(', ')}` : ''}`],
    ];
  },
  data(s, vars) {
    return {
      src: s.src,
      src_filled: fillVarsOnly(s.src, vars),
      to: s.to,
      to_filled: fillVarsOnly(s.to, vars),
      delete: s.delete,
      exclude: s.exclude,
      mode: s.mode === undefined ? null : modeString(s.mode),
    };
  },
  readOnly: () => false,
  async perform(step, ctx, signal) {
    const root = renderLocalSource(step.src, ctx, 'sync');
    let to = renderPath(step.to, ctx, 'to');
    if (to.length > 1) to = to.replace(/\/+$/, '');
    const local = await walkLocal(root, step.exclude, ctx.host).catch((e: unknown) => {
      if (e instanceof HostError) throw e;
      throw new HostError('not_found', `${ctx.host}: sync: cannot read ${root}: ${(e as Error).message}`);
    });
    const session = await ctx.session();
    const runOpts = { become: step.policy.become, signal };
    const { abs, entries: remote, folders } = await listRemote(session, to, runOpts, ctx.host);
    const clear = inTheWay(local, remote, folders);
    const under = (p: string) => clear.some((c) => p === c || p.startsWith(`${c}/`));
    if (clear.length) {
      const kinds = clear.map(
        (p) => `${abs}/${p} is ${folders.has(p) ? 'a folder on the host, a file' : 'a file on the host, a folder'} in ${root}`,
      );
      const kept = [...remote.keys()].filter((p) => under(p) && isExcluded(p, step.exclude));
      if (!step.delete || kept.length)
        throw new HostError(
          'failed',
          `${ctx.host}: sync: ${kinds.join('; ')}; ${kept.length ? `it holds excluded files (${kept.join(', ')}), which sync never removes: remove it on the host` : 'remove it on the host, or set delete: true to let sync replace it'}`,
        );
    }
    const want = (e: LocalEntry) => (e.type === 'file' ? (step.mode ?? e.mode) : e.mode);
    const send = local.filter((e) => {
      const r = remote.get(e.rel);
      if (r?.type !== e.type) return true;
      return e.type === 'link' ? r.target !== e.target : r.sha1 !== e.sha1 || r.mode !== want(e);
    });
    const inLocal = new Set(local.map((e) => e.rel));
    const deleted = step.delete
      ? [...remote.keys()].filter((p) => !inLocal.has(p) && !isExcluded(p, step.exclude) && !p.startsWith('.chopsticks-sync.')).sort()
      : [];
    const bytes = send.reduce((n, e) => n + e.size, 0);
    const value: Record<string, Json> = {
      remote_path: abs,
      files: local.length,
      changed_files: send.map((e) => e.rel),
      deleted,
      bytes_sent: ctx.check ? 0 : bytes,
      changed: send.length + deleted.length > 0,
    };
    if (ctx.diff) value.diff = await syncDiff(session, abs, send, deleted, (e) => [remote.get(e.rel)?.mode, want(e)], runOpts);
    if (ctx.check || !value.changed) return { value, changed: value.changed as boolean };

    let remoteTar = '';
    try {
      if (send.length)
        remoteTar = await ctx.privateTempDir('chopsticks-sync-', async (dir) => {
          const tarFile = join(dir, 'files.tar');
          await writeTar(tarFile, send, want);
          return (await session.put(tarFile, undefined, 0o600, { ...runOpts, onProgress: ctx.onProgress })).remote_path;
        });
      // The absolute path: the script works from inside its staging folder.
      // What a cleared path held is gone with it; `rm -f` of it afterwards would meet the new folder.
      const rest = deleted.filter((p) => !under(p));
      const r = await session.run(['sh', '-c', APPLY_SCRIPT, 'sh', abs, remoteTar, String(clear.length), ...clear, ...rest], runOpts);
      if (r.rc !== 0)
        throw new HostError(
          r.stderr.includes('Permission denied') ? 'permission_denied' : 'remote_io',
          `${ctx.host}: sync into ${to}: ${r.stderr.trim() || `exit ${r.rc}`}${r.rc === 13 ? '' : '; files renamed into place before the failure stay, so the folder may be partly synced: fix the cause and run again'}`,
        );
    } finally {
      // put without a destination made a private folder for the archive: remove both.
      if (remoteTar)
        await session
          .run(['rm', '-rf', '--', remoteTar.slice(0, remoteTar.lastIndexOf('/'))], { become: step.policy.become, timeoutMs: 30_000 })
          .catch(() => {});
    }
    return { value, changed: true };
  },
};

/**
 * Remote paths of the other kind where the local tree puts something: a folder where a file or
 * link goes, or a file or link where a folder goes (writing through a link would leave `to`).
 */
function inTheWay(local: readonly LocalEntry[], remote: ReadonlyMap<string, RemoteEntry>, folders: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const e of local) {
    if (folders.has(e.rel)) found.add(e.rel);
    const parts = e.rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (remote.has(dir)) found.add(dir);
    }
  }
  return [...found].sort();
}

async function writeTar(file: string, entries: LocalEntry[], mode: (e: LocalEntry) => number): Promise<void> {
  const { pack: tarPack } = load('tar-stream') as typeof import('tar-stream');
  const p = tarPack();
  const done = pipeline(p, createWriteStream(file, { mode: 0o600 }));
  for (const e of entries) {
    if (e.type === 'link') {
      p.entry({ name: e.rel, type: 'symlink', linkname: e.target!, mode: 0o777 });
      continue;
    }
    await new Promise<void>((ok, fail) => {
      const entry = p.entry({ name: e.rel, size: e.size, mode: mode(e), type: 'file' }, (err) => (err ? fail(err) : ok()));
      createReadStream(e.abs).on('error', fail).pipe(entry);
    });
  }
  p.finalize();
  await done;
}

/** Per changed file, capped: the first 20 files' diffs, then a count of the rest. */
async function syncDiff(
  session: HostSession,
  to: string,
  send: LocalEntry[],
  deleted: string[],
  modes: (e: LocalEntry) => [before: number | undefined, after: number],
  opts: { become?: string; signal: AbortSignal },
): Promise<string> {
  const parts: string[] = [];
  const MAX = 20;
  for (const e of send.slice(0, MAX)) {
    if (e.type === 'link') {
      parts.push(`link ${to}/${e.rel} → ${e.target}\n`);
      continue;
    }
    const before = await remoteContent(session, `${to}/${e.rel}`, opts);
    const after = e.size > DIFF_LIMIT ? { size: e.size, sha1sum: e.sha1 } : await readFile(e.abs);
    parts.push(unifiedDiff(`${to}/${e.rel}`, before, after) + modeDiff(`${to}/${e.rel}`, ...modes(e)));
  }
  for (const d of deleted.slice(0, Math.max(0, MAX - parts.length)))
    parts.push(unifiedDiff(`${to}/${d}`, await remoteContent(session, `${to}/${d}`, opts), null));
  const rest = send.length + deleted.length - parts.length;
  if (rest > 0) parts.push(`... and ${rest} more file(s)\n`);
  return parts.join('');
}
