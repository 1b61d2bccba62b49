/**
 * Reads an ssh config as OpenSSH's readconf.c does, `Include` included: the `ssh-config` library
 * parses each file, but its `compute` sees one file only and never follows `Include` (5.3.0
 * only knows it as a directive name), so the walk over Host/Match blocks is done here.
 *
 * What OpenSSH does and this walk copies (man ssh_config, readconf.c):
 * - `Include` takes several paths, each with glob wildcards and `~`; a relative path is
 *   relative to ~/.ssh (a user config: -F and CHOPSTICKS_SSH_CONFIG count as one). Matches are
 *   read in sorted order, in place of the Include line; a pattern that matches nothing is fine.
 * - An included file starts in the enclosing block's state: inside a Host/Match block that does
 *   not apply, nothing of the file applies, its own Host lines included; after the file, the
 *   enclosing block's state is back.
 * - At most 16 levels of Include (READCONF_MAX_DEPTH): deeper is an error, as in OpenSSH.
 * - For each option the first value obtained wins; IdentityFile and CertificateFile add up.
 * - `Match final` asks for a second pass with the host set to HostName.
 * Never evaluated: `Match exec` (no shell runs), and CanonicalizeHostName (no DNS lookups here).
 */
import SSHConfig, { glob } from 'ssh-config';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { isAbsolute, join, sep } from 'node:path';
import { HostError } from '../../errors.js';

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;
const ACCUMULATING = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward']);

/** Option (lower case) → its values; several for a list option or an accumulating one. */
export type ConfigValues = Map<string, string[]>;

type Line = SSHConfig[number];
type Directive = Extract<Line, { param: string }>;

// Parsed once per version of each file (path, size, mtime), top file and included ones alike:
// every lookup stats the files it reads and re-expands Include globs, so an edited included
// file, or a file added to an included folder, is seen by the next lookup.
const parsed = new Map<string, { version: string; config: SSHConfig }>();

function parseFile(path: string): SSHConfig | undefined {
  let version: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return undefined;
    version = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
  const hit = parsed.get(path);
  if (hit?.version === version) return hit.config;
  const config = SSHConfig.parse(readFileSync(path, 'utf8'));
  parsed.set(path, { version, config });
  return config;
}

function valuesOf(line: Directive): string[] {
  const v = line.value as string | Array<{ val: string }>;
  return typeof v === 'string' ? [v] : v.map((x) => x.val);
}

// Loaded on first use: only an Include with a wildcard needs it.
const load = createRequire(import.meta.url);

/**
 * The files one Include argument names, sorted as glob(3) sorts them. Globbing is a readdir of
 * each folder whose path part has a wildcard, with minimatch (already a dependency) matching
 * the names as fnmatch does: `*` and `?` never match a leading dot.
 */
export function includePaths(arg: string, home: string): string[] {
  let path = arg === '~' ? home : arg.startsWith('~/') ? join(home, arg.slice(2)) : arg;
  if (!isAbsolute(path)) path = join(home, '.ssh', path);
  if (!/[*?[]/.test(path)) return [path];
  const { minimatch } = load('minimatch') as typeof import('minimatch');
  let found: string[] = [sep];
  for (const part of path.split(sep).filter(Boolean)) {
    if (!/[*?[]/.test(part)) {
      found = found.map((p) => join(p, part));
      continue;
    }
    found = found.flatMap((p) => {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch {
        return [];
      }
      return names.filter((n) => minimatch(n, part, { dot: false })).map((n) => join(p, n));
    });
  }
  return found.sort();
}

interface Walk {
  home: string;
  /** What Host lines match: the alias, then HostName in a final pass. */
  host: string;
  originalHost: string;
  localUser: string;
  inFinalPass: boolean;
  wantFinalPass: boolean;
  values: ConfigValues;
}

function set(w: Walk, param: string, vals: string[]): void {
  const key = param.toLowerCase();
  const had = w.values.get(key);
  if (ACCUMULATING.has(key)) w.values.set(key, [...(had ?? []), ...vals]);
  else if (had === undefined) w.values.set(key, vals);
}

/** `Match` criteria as OpenSSH reads them; `exec` never matches, an unknown criterion neither. */
function matches(criteria: Record<string, unknown>, w: Walk): boolean {
  const hostName = (w.values.get('hostname')?.[0] ?? w.host).replace(/%h/g, w.originalHost);
  const user = w.values.get('user')?.[0] ?? w.localUser;
  for (const [rawKey, raw] of Object.entries(criteria)) {
    const negated = rawKey.startsWith('!');
    const key = (negated ? rawKey.slice(1) : rawKey).toLowerCase();
    const pattern = Array.isArray(raw) ? (raw as Array<{ val: string }>).map((x) => x.val) : String(raw);
    let ok: boolean;
    switch (key) {
      case 'all':
        ok = true;
        break;
      case 'final':
        ok = w.inFinalPass;
        if (!w.inFinalPass) w.wantFinalPass = true;
        break;
      case 'canonical':
        ok = false; // no canonicalisation is ever done
        break;
      case 'host':
        ok = glob(pattern, hostName);
        break;
      case 'originalhost':
        ok = glob(pattern, w.originalHost);
        break;
      case 'user':
        ok = glob(pattern, user);
        break;
      case 'localuser':
        ok = glob(pattern, w.localUser);
        break;
      default:
        ok = false;
    }
    if (ok === negated) return false;
  }
  return true;
}

function walkFile(config: SSHConfig, active: boolean, neverMatch: boolean, chain: string[], w: Walk): void {
  let on = active;
  for (const line of config) {
    if (!('param' in line)) continue;
    if ('config' in line && /^(host|match)$/i.test(line.param)) {
      if (neverMatch) on = false;
      else if (/^host$/i.test(line.param)) on = glob(valuesOf(line), w.host);
      else on = matches((line as { criteria?: Record<string, unknown> }).criteria ?? {}, w);
      for (const sub of line.config) if ('param' in sub) directive(sub, on, neverMatch, chain, w);
    } else {
      directive(line, on, neverMatch, chain, w);
    }
  }
}

function directive(line: Directive, active: boolean, neverMatch: boolean, chain: string[], w: Walk): void {
  if (!/^include$/i.test(line.param)) {
    if (active) set(w, line.param, valuesOf(line));
    return;
  }
  if (chain.length > MAX_INCLUDE_DEPTH) {
    throw new HostError(
      'unreachable',
      `ssh config: Include nested more than ${MAX_INCLUDE_DEPTH} deep (${chain.join(' -> ')}); ` +
        `an Include loop? Remove the Include that leads back, in ${chain[chain.length - 1]}.`,
    );
  }
  for (const arg of valuesOf(line)) {
    for (const path of includePaths(arg, w.home)) {
      const config = parseFile(path);
      // An included file starts in this line's state, and never matches under a block that
      // does not apply; `on` of the caller is untouched, so its block's state is back after.
      if (config) walkFile(config, active, neverMatch || !active, [...chain, path], w);
    }
  }
}

/** Every option the config file at `path` gives `alias`, or undefined when there is no such file. */
export function computeSshConfig(path: string, alias: string, home: string): ConfigValues | undefined {
  const top = parseFile(path);
  if (!top) return undefined;
  let localUser: string;
  try {
    localUser = userInfo().username;
  } catch {
    localUser = process.env.USER ?? '';
  }
  const w: Walk = { home, host: alias, originalHost: alias, localUser, inFinalPass: false, wantFinalPass: false, values: new Map() };
  walkFile(top, true, false, [path], w);
  if (w.wantFinalPass) {
    w.inFinalPass = true;
    w.host = (w.values.get('hostname')?.[0] ?? alias).replace(/%h/g, alias);
    walkFile(top, true, false, [path], w);
  }
  return w.values;
}
