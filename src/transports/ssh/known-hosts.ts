/**
 * OpenSSH known_hosts: parsing, matching (plain, comma lists, wildcards, `[host]:port`,
 * hashed `|1|salt|hash`), verdicts and concurrent-safe appends for `accept-new`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileCache } from './file-cache.js';

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written (comma list, possibly hashed). */
  hosts: string;
  keyType: string;
  key: Buffer;
  /** 1-based line number, for messages. */
  line: number;
  /** The file it is in, for messages, when several files are read (UserKnownHostsFile may list several). */
  file?: string;
}

export function parseKnownHosts(text: string, file?: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0]?.startsWith('@')) {
      continue; // unknown marker: OpenSSH ignores the line too
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) continue;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) continue;
    out.push({ marker, hosts, keyType, key, line: i + 1, ...(file !== undefined ? { file } : {}) });
  }
  return out;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

const PRINTABLE_ASCII = /^[ -~]*$/;

/**
 * A pattern without wildcards, in printable ASCII: it matches exactly one name, case aside
 * (lower-casing agrees there with the RegExp's case folding, and no other name folds to it).
 * wildcardMatch compares such a pattern without a RegExp, and indexKnownHosts indexes it.
 */
function isPlainName(pattern: string): boolean {
  return !/[*?]/.test(pattern) && PRINTABLE_ASCII.test(pattern);
}

function wildcardMatch(pattern: string, name: string): boolean {
  // Building a RegExp for every line of a long known_hosts file, for every host, cost a
  // 200-host run 0.6 s of CPU.
  if (isPlainName(pattern) && PRINTABLE_ASCII.test(name)) return pattern.toLowerCase() === name.toLowerCase();
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Whether the entry's host field names `name` (negated patterns win, as in OpenSSH). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.startsWith('|')) return hashedMatch(entry.hosts, name);
  let matched = false;
  for (const pat of entry.hosts.split(',')) {
    if (pat.startsWith('!')) {
      if (wildcardMatch(pat.slice(1), name)) return false;
    } else if (wildcardMatch(pat, name)) {
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH's fingerprint format: `SHA256:` + base64 without padding. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type at the start of an SSH public key blob (`ssh-ed25519`, ...). */
export function keyTypeOfBlob(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

export type HostKeyVerdict =
  | { kind: 'known'; line: number }
  | { kind: 'unknown' }
  | { kind: 'mismatch'; expected: Array<{ keyType: string; fingerprint: string; line: number; file?: string }> }
  | { kind: 'revoked'; line: number; file?: string };

export function checkHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  for (const e of entries) {
    if (e.marker === 'revoked' && e.key.equals(key)) return { kind: 'revoked', line: e.line, file: e.file };
  }
  const mine = entries.filter((e) => e.marker === null && entryMatches(e, name));
  const same = mine.find((e) => e.key.equals(key));
  if (same) return { kind: 'known', line: same.line };
  if (mine.length === 0) return { kind: 'unknown' };
  // Known under other keys (of this type or another): the host is not new, so
  // this key is a change, never something to accept silently.
  return {
    kind: 'mismatch',
    expected: mine.map((e) => ({ keyType: e.keyType, fingerprint: fingerprint(e.key), line: e.line, file: e.file })),
  };
}

/** Host key algorithms for ssh2, the types already known for `name` first. */
export function hostKeyAlgorithms(entries: KnownHostEntry[], name: string, defaults: readonly string[]): string[] {
  const known = new Set<string>();
  for (const e of entries) {
    if (e.marker !== null || !entryMatches(e, name)) continue;
    // An RSA key is negotiated under its signature algorithms, not its key type.
    if (e.keyType === 'ssh-rsa') ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((t) => known.add(t));
    else known.add(e.keyType);
  }
  const first = defaults.filter((a) => known.has(a));
  return [...first, ...defaults.filter((a) => !known.has(a))];
}

/**
 * A parsed known_hosts file with its plain names indexed: a host's entries are found without
 * matching it against every line, which for N hosts and a file of N lines was N² matches.
 */
export interface KnownHosts {
  /** Entries whose host field is a list of plain names (no wildcard, negation or hash), under each name in lower case. */
  byName: Map<string, KnownHostEntry[]>;
  /** Every other entry (markers included): matched one by one. */
  rest: KnownHostEntry[];
}

export function indexKnownHosts(entries: KnownHostEntry[]): KnownHosts {
  const byName = new Map<string, KnownHostEntry[]>();
  const rest: KnownHostEntry[] = [];
  for (const e of entries) {
    const names = e.marker === null && !e.hosts.startsWith('|') ? e.hosts.split(',') : [];
    if (names.length === 0 || !names.every((n) => n !== '' && !n.startsWith('!') && isPlainName(n))) {
      rest.push(e);
      continue;
    }
    for (const n of names) {
      const list = byName.get(n.toLowerCase());
      if (list === undefined) byName.set(n.toLowerCase(), [e]);
      else if (list[list.length - 1] !== e) list.push(e);
    }
  }
  return { byName, rest };
}

/**
 * The entries that can concern `name`, in file order: all checkHostKey and hostKeyAlgorithms
 * need. An indexed pattern matches only its own name (isPlainName).
 */
export function entriesFor(kh: KnownHosts, name: string): KnownHostEntry[] {
  const named = PRINTABLE_ASCII.test(name) ? (kh.byName.get(name.toLowerCase()) ?? []) : [];
  if (named.length === 0) return kh.rest;
  if (kh.rest.length === 0) return named;
  return [...named, ...kh.rest].sort((a, b) => a.line - b.line);
}

const knownHostsFiles = fileCache((data, path) => indexKnownHosts(parseKnownHosts(data.toString('utf8'), path)));

/** The file's entries, read and indexed once per version of the file (file-cache.ts); no file is no entries. */
export async function loadKnownHosts(file: string): Promise<KnownHosts> {
  try {
    return await knownHostsFiles(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return indexKnownHosts([]);
    throw e;
  }
}

/** `name`'s entries in each of `files` (UserKnownHostsFile may list several), file by file, in file order. */
export async function knownHostsEntriesFor(files: readonly string[], name: string): Promise<KnownHostEntry[]> {
  return (await Promise.all(files.map(async (f) => entriesFor(await loadKnownHosts(f), name)))).flat();
}

const fileLocks = new Map<string, Promise<unknown>>();

/** Run `fn` after every earlier call for the same file has finished. */
function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = fileLocks.get(file) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  fileLocks.set(file, tail);
  void tail.then(() => {
    if (fileLocks.get(file) === tail) fileLocks.delete(file);
  });
  return next;
}

/**
 * Append `name keyType base64` unless the file already knows this key for `name`. The
 * re-read under the lock makes many hosts connecting at once add each line exactly once;
 * a single append of a whole line keeps the file untorn for other readers.
 */
export function appendKnownHost(file: string, name: string, key: Buffer): Promise<'added' | 'present'> {
  return withFileLock(file, async () => {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (checkHostKey(parseKnownHosts(text), name, key).kind === 'known') return 'present';
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    await appendFile(file, `${prefix}${name} ${keyTypeOfBlob(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
    return 'added';
  });
}
