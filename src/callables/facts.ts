/**
 * Read-only facts. Only POSIX sh and busybox applets are used (cat, uname, df, sha1sum,
 * stat, head), so facts work in a busybox-only container as well as on Debian. Every
 * playbook value reaches the host as a positional argument, never inside the script.
 */
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { optString, reqString } from './args.js';
import { baseRunOptions, stderrTail } from './run-opts.js';
import { noArgs } from './arg-schemas.js';
import { ENV_NAME_PATTERN } from '../lang/names.js';
import type { BuiltinCallable, CallContext, CallOutcome } from './types.js';

/** Runs a fixed script with args; a non-zero exit is that host's error. */
async function script(ctx: CallContext, name: string, body: string, args: string[] = []): Promise<string> {
  return program(ctx, name, ['sh', '-c', body, 'sh', ...args]);
}

/** A one-program fact runs it directly: a `sh -c` around it would cost the host one more process. */
async function program(ctx: CallContext, name: string, argv: string[]): Promise<string> {
  const r = await ctx.session.run(argv, baseRunOptions(ctx));
  if (r.rc !== 0) {
    throw new HostError(
      'failed',
      `${ctx.hostName}: ${name}: exited ${r.rc}${r.stderr ? `: ${stderrTail(r.stderr)}` : ''}`,
      r.stderr || null,
    );
  }
  return r.stdout;
}

function fact(
  name: string,
  description: string,
  schema: Record<string, unknown>,
  get: (ctx: CallContext) => Promise<Json>,
): BuiltinCallable {
  return {
    name,
    readonly: true,
    schema,
    description,
    async invoke(ctx): Promise<CallOutcome> {
      return { value: await get(ctx), changed: false };
    },
  };
}

/** Sections of a multi-part script output: lines after `#name` up to the next `#...`. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    const m = /^#@(\w+)$/.exec(line);
    if (m) {
      cur = [];
      out.set(m[1]!, cur);
    } else cur?.push(line);
  }
  return out;
}

function keyValues(lines: string[], sep: RegExp): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of lines) {
    const i = line.search(sep);
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (!m.has(k)) m.set(k, line.slice(i).replace(sep, '').trim());
  }
  return m;
}

function unquoteOsRelease(v: string): string {
  const m = /^(["'])(.*)\1$/.exec(v);
  return m ? m[2]!.replace(/\\(["$`\\])/g, '$1') : v;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Not loopback, link-local or unspecified: an address other hosts could use. */
function isGlobalV4(ip: string): boolean {
  const m = IPV4.exec(ip);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a !== 127 && a !== 0 && !(a === 169 && b === 254) && a < 224;
}

/** First global address from `ip -o addr`, `hostname -I`, or /proc/net/fib_trie, in that order. */
export function parseIpFacts(text: string): string | null {
  const s = sections(text);
  const v6: string[] = [];
  for (const line of s.get('ip') ?? []) {
    const m = /\sinet(6?)\s+([0-9a-fA-F.:]+)\/\d+.*\bscope global\b/.exec(line);
    if (!m) continue;
    if (m[1] === '') {
      if (isGlobalV4(m[2]!)) return m[2]!;
    } else v6.push(m[2]!);
  }
  for (const tok of (s.get('hostnameI') ?? []).join(' ').split(/\s+/)) {
    if (isGlobalV4(tok)) return tok;
  }
  // fib_trie lists `|-- ADDR` followed by `/32 host LOCAL` for the machine's own addresses.
  const fib = s.get('fib') ?? [];
  for (let i = 0; i + 1 < fib.length; i++) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(fib[i]!);
    if (m && fib[i + 1]!.includes('/32 host LOCAL') && isGlobalV4(m[1]!)) return m[1]!;
  }
  return v6[0] ?? null;
}

const IP_SCRIPT = `
echo '#@ip'; ip -o addr show scope global 2>/dev/null
echo '#@hostnameI'; hostname -I 2>/dev/null
echo '#@fib'; cat /proc/net/fib_trie 2>/dev/null
true`;

const OS_SCRIPT = `
echo '#@release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo '#@uname'; uname -s; uname -r; uname -m`;

export function parseOsFacts(text: string): { id: string; version: string | null; name: string | null; kernel: string; arch: string } {
  const s = sections(text);
  const rel = keyValues(s.get('release') ?? [], /=/);
  const [sys = '', kernel = '', arch = ''] = (s.get('uname') ?? []).map((l) => l.trim());
  const get = (k: string): string | null => {
    const v = rel.get(k);
    return v === undefined ? null : unquoteOsRelease(v);
  };
  return {
    id: get('ID') ?? sys.toLowerCase(),
    version: get('VERSION_ID'),
    name: get('PRETTY_NAME') ?? get('NAME'),
    kernel,
    arch,
  };
}

const CPU_SCRIPT = `
echo '#@cpuinfo'; cat /proc/cpuinfo 2>/dev/null
echo '#@online'; getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null
true`;

export function parseCpuFacts(text: string): { count: number; model: string | null } {
  const s = sections(text);
  const info = s.get('cpuinfo') ?? [];
  let count = info.filter((l) => /^processor\s*:/.test(l)).length;
  if (count === 0) count = Number((s.get('online') ?? [])[0]?.trim()) || 0;
  const kv = keyValues(info, /\s*:\s*/);
  const model = kv.get('model name') ?? kv.get('Hardware') ?? kv.get('cpu model') ?? kv.get('Processor') ?? kv.get('cpu') ?? null;
  return { count, model: model === '' ? null : model };
}

export function parseMeminfo(text: string): { total_bytes: number; available_bytes: number } {
  const kv = keyValues(text.split('\n'), /:\s*/);
  const kb = (k: string): number | undefined => {
    const v = kv.get(k);
    const m = v === undefined ? null : /^(\d+)/.exec(v);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) throw new Error('MemTotal missing from /proc/meminfo');
  // Kernels before 3.14 have no MemAvailable; free + buffers + cache is its usual estimate.
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { total_bytes: total, available_bytes: available };
}

/** Last line of `df -Pk PATH`; the mount point may hold spaces, so parse from the numbers. */
export function parseDf(
  text: string,
  path: string,
): { path: string; filesystem: string; mount: string; total_bytes: number; used_bytes: number; available_bytes: number } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  const m = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(.*)$/.exec(last);
  if (!m) throw new Error(`unexpected df output: ${last.slice(0, 200)}`);
  return {
    path,
    filesystem: m[1]!,
    mount: m[6]!,
    total_bytes: Number(m[2]) * 1024,
    used_bytes: Number(m[3]) * 1024,
    available_bytes: Number(m[4]) * 1024,
  };
}

const ENV_NAME = new RegExp(ENV_NAME_PATTERN);

/** Walks PATH by hand: `command -v` prints bare names for builtins, and we want a program's path. */
const WHICH_SCRIPT = `
case $1 in */*) [ -f "$1" ] && [ -x "$1" ] && { echo "$1"; exit 0; }; exit 1;; esac
IFS=:
for d in $PATH; do [ -n "$d" ] || d=.; if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then echo "$d/$1"; exit 0; fi; done
exit 1`;

function parseError(ctx: CallContext, name: string, e: unknown): HostError {
  return new HostError('failed', `${ctx.hostName}: ${name}: ${(e as Error).message}`);
}

export const factCallables: BuiltinCallable[] = [
  {
    name: 'ping',
    readonly: true,
    schema: noArgs,
    description: 'returns "pong"',
    async invoke(ctx) {
      const out = await script(ctx, 'ping', 'echo pong');
      if (out.trim() !== 'pong')
        throw new HostError('failed', `${ctx.hostName}: ping: the shell answered ${JSON.stringify(out.slice(0, 80))}`);
      return { value: 'pong', changed: false };
    },
  },
  fact('facts.hostname', "the host's hostname", noArgs, async (ctx) => (await program(ctx, 'facts.hostname', ['uname', '-n'])).trim()),
  fact('facts.ip', 'first global address, or null', noArgs, async (ctx) => parseIpFacts(await script(ctx, 'facts.ip', IP_SCRIPT))),
  fact('facts.os', 'os-release id, version, kernel, arch', noArgs, async (ctx) => parseOsFacts(await script(ctx, 'facts.os', OS_SCRIPT))),
  fact('facts.uptime', 'seconds since boot', noArgs, async (ctx) => {
    const out = await program(ctx, 'facts.uptime', ['cat', '/proc/uptime']);
    const secs = Number(out.trim().split(/\s+/)[0]);
    if (!Number.isFinite(secs)) throw new HostError('failed', `${ctx.hostName}: facts.uptime: cannot read /proc/uptime`);
    return Math.floor(secs);
  }),
  fact('facts.cpu', 'cpu count and model', noArgs, async (ctx) => parseCpuFacts(await script(ctx, 'facts.cpu', CPU_SCRIPT))),
  fact('facts.memory', 'total and available memory', noArgs, async (ctx) => {
    const out = await script(ctx, 'facts.memory', 'cat /proc/meminfo');
    try {
      return parseMeminfo(out);
    } catch (e) {
      throw parseError(ctx, 'facts.memory', e);
    }
  }),
  fact(
    'facts.disk',
    'size and free space of the filesystem holding path',
    {
      type: 'object',
      additionalProperties: false,
      properties: { path: { type: 'string', description: 'a path on the filesystem to measure ("/" by default)' } },
    },
    async (ctx) => {
      const path = optString(ctx, 'facts.disk', 'path') ?? '/';
      const r = await ctx.session.run(['df', '-Pk', '--', path], baseRunOptions(ctx));
      if (r.rc !== 0) {
        const kind = /No such file|can't find/i.test(r.stderr) ? 'not_found' : 'failed';
        throw new HostError(kind, `${ctx.hostName}: facts.disk: df ${path} exited ${r.rc}: ${stderrTail(r.stderr)}`);
      }
      try {
        return parseDf(r.stdout, path);
      } catch (e) {
        throw parseError(ctx, 'facts.disk', e);
      }
    },
  ),
  fact(
    'facts.env',
    'value of an environment variable, or null',
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', description: 'environment variable name' } },
    },
    async (ctx) => {
      const name = reqString(ctx, 'facts.env', 'name');
      if (!ENV_NAME.test(name)) {
        throw new HostError('failed', `${ctx.hostName}: facts.env: ${JSON.stringify(name)} is not an environment variable name`);
      }
      // The name is checked above, so it is safe inside eval; the value only ever goes to printf.
      const out = await script(ctx, 'facts.env', 'eval "s=\\${$1+set}; v=\\${$1-}"; [ "$s" = set ] && printf "1%s" "$v" || printf 0', [
        name,
      ]);
      return out.startsWith('1') ? out.slice(1) : null;
    },
  ),
  fact(
    'facts.which',
    'absolute path of a program, or null',
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', description: 'program name' } },
    },
    async (ctx) => {
      const name = reqString(ctx, 'facts.which', 'name');
      const r = await ctx.session.run(['sh', '-c', WHICH_SCRIPT, 'sh', name], baseRunOptions(ctx));
      return r.rc === 0 ? r.stdout.replace(/\n$/, '') : null;
    },
  ),
  fact(
    'facts.file',
    '{exists, type, size, mode, sha1sum}',
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: { path: { type: 'string', description: 'path on the host' } },
    },
    async (ctx) => {
      const path = reqString(ctx, 'facts.file', 'path');
      const info = await ctx.session.stat(path, { become: ctx.become, signal: ctx.signal, withSha1: true });
      return { ...info };
    },
  ),
];
