/**
 * Ansible inventories, INI and YAML (docs/ansible.md#inventories), read as Chopsticks
 * inventories: each becomes a document with `hosts:` and `groups:` whose nodes carry positions
 * in the Ansible file, so every later problem points at the line that caused it.
 *
 * Told apart by content: a YAML mapping of Chopsticks keys (hosts, groups, vars, ...) is ours;
 * a YAML mapping of groups holding hosts/children/vars is Ansible YAML; anything else with
 * `[group]` sections or `host key=value` lines is INI.
 *
 * Variables resolve as Ansible does for one host: `all` vars, then groups from parent to child
 * (then by name), then the host's own. `ansible_host`, `ansible_port`, `ansible_user`,
 * `ansible_ssh_private_key_file`, `ansible_connection` (ssh, local, docker, by short or full name) and
 * `ansible_become_user` become host fields; other `ansible_*` keys are warnings; every other
 * var is a host var.
 */
import { Document, isMap, isPair, isScalar, isSeq, LineCounter } from 'yaml';
import type { PlaybookProblem } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { entriesInOrder, findOffset, posAt, type ParsedYaml } from '../parse/parse-yaml.js';
import { MAX_RANGE_NAMES } from '../lang/hostlist.js';

const OURS = new Set(['hosts', 'groups', 'vars', 'host_defaults', 'group_vars']);
const GROUP_KEYS = new Set(['hosts', 'children', 'vars']);

export type InventoryFormat = 'chopsticks' | 'ansible-yaml' | 'ansible-ini';

/** Which kind of inventory a file is, from what was parsed as YAML (undefined value: not YAML). */
export function inventoryFormat(parsed: ParsedYaml): InventoryFormat {
  const v = parsed.value;
  if (parsed.problems.length > 0 || v === undefined || v === null) {
    return parsed.problems.length > 0 && looksIni(parsed.text) ? 'ansible-ini' : 'chopsticks';
  }
  if (typeof v === 'string' && looksIni(parsed.text)) return 'ansible-ini';
  if (typeof v !== 'object' || Array.isArray(v)) return 'chopsticks';
  const keys = Object.keys(v);
  if (keys.every((k) => OURS.has(k) || k.startsWith('x-'))) return 'chopsticks';
  const groupLike = Object.values(v as Record<string, unknown>).every(
    (g) => g === null || (typeof g === 'object' && !Array.isArray(g) && Object.keys(g).every((k) => GROUP_KEYS.has(k))),
  );
  return groupLike ? 'ansible-yaml' : 'chopsticks';
}

function looksIni(text: string): boolean {
  return text.split('\n').some((l) => /^\s*\[[^\]]+\]\s*$/.test(l) || /^\s*[A-Za-z0-9][^\s=]*\s+[A-Za-z_][A-Za-z0-9_]*=/.test(l));
}

/** A value with the offset of the text it came from. */
interface At<T> {
  value: T;
  at: number;
}

interface Group {
  name: string;
  at: number;
  hosts: string[];
  children: Array<At<string>>;
  vars: Map<string, At<Json>>;
}

interface Collected {
  groups: Map<string, Group>;
  hosts: Map<string, { at: number; vars: Map<string, At<Json>> }>;
}

export interface Converted {
  doc: ParsedYaml;
  warnings: PlaybookProblem[];
}

function group(c: Collected, name: string, at: number): Group {
  let g = c.groups.get(name);
  if (!g) {
    g = { name, at, hosts: [], children: [], vars: new Map() };
    c.groups.set(name, g);
  }
  return g;
}

function addHost(c: Collected, g: Group | undefined, name: string, at: number, vars: Map<string, At<Json>>): void {
  let h = c.hosts.get(name);
  if (!h) {
    h = { at, vars: new Map() };
    c.hosts.set(name, h);
  }
  for (const [k, v] of vars) h.vars.set(k, v);
  if (g && !g.hosts.includes(name)) g.hosts.push(name);
}

/**
 * `web[01:40]`, `db-[a:f].lan`, `n[1:9:2]`: Ansible's range patterns, several multiplying.
 * A numeric range keeps the start's zero padding.
 */
export function expandAnsiblePattern(text: string): { ok: true; names: string[] } | { ok: false; message: string; offset: number } {
  let names = [''];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('[', i);
    if (open < 0) {
      names = names.map((n) => n + text.slice(i));
      break;
    }
    const close = text.indexOf(']', open);
    if (close < 0) return { ok: false, message: "'[' is not closed; write a range such as web[01:40]", offset: open };
    const prefix = text.slice(i, open);
    const m = /^([0-9]+|[a-zA-Z]):([0-9]+|[a-zA-Z])(?::([0-9]+))?$/.exec(text.slice(open + 1, close));
    if (!m)
      return {
        ok: false,
        message: `'[${text.slice(open + 1, close)}]' is not a range; write [START:END] or [START:END:STEP], e.g. [01:40] or [a:f]`,
        offset: open,
      };
    const [, a, b, stepText] = m as unknown as [string, string, string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    const values: string[] = [];
    if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) {
      const from = Number(a);
      const to = Number(b);
      if (to < from) return { ok: false, message: `range ${a}:${b} goes down; write ${b}:${a}`, offset: open };
      if (step < 1) return { ok: false, message: 'a range step must be at least 1', offset: open };
      if ((to - from) / step + 1 > MAX_RANGE_NAMES)
        return { ok: false, message: `range [${a}:${b}] makes more than ${MAX_RANGE_NAMES} hosts (the limit)`, offset: open };
      const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
      for (let n = from; n <= to; n += step) values.push(String(n).padStart(width, '0'));
    } else if (/^[a-zA-Z]$/.test(a) && /^[a-zA-Z]$/.test(b)) {
      if (b < a) return { ok: false, message: `range ${a}:${b} goes down; write ${b}:${a}`, offset: open };
      for (let c = a.charCodeAt(0); c <= b.charCodeAt(0); c += step) values.push(String.fromCharCode(c));
    } else {
      return { ok: false, message: `range [${a}:${b}] mixes letters and numbers`, offset: open };
    }
    names = names.flatMap((n) => values.map((v) => n + prefix + v));
    if (names.length > MAX_RANGE_NAMES)
      return { ok: false, message: `the pattern ${text} makes more than ${MAX_RANGE_NAMES} hosts (the limit)`, offset: open };
    i = close + 1;
  }
  return { ok: true, names };
}

/** Ansible reads inline host vars as Python literals: numbers, True/False, quoted strings. */
function literal(raw: string): Json {
  if (/^-?[0-9]+$/.test(raw)) return Number(raw);
  if (/^-?[0-9]+\.[0-9]+$/.test(raw)) return Number(raw);
  if (raw === 'True' || raw === 'true') return true;
  if (raw === 'False' || raw === 'false') return false;
  return unquote(raw);
}

function unquote(raw: string): string {
  if (raw.length >= 2 && (raw.startsWith('"') || raw.startsWith("'")) && raw.endsWith(raw.charAt(0))) return raw.slice(1, -1);
  return raw;
}

/** Splits a host line into words at spaces outside quotes, each with its offset. */
function words(line: string, base: number): Array<{ text: string; at: number }> {
  const out: Array<{ text: string; at: number }> = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    const start = i;
    let quote: string | undefined;
    while (i < line.length && (quote !== undefined || !/\s/.test(line[i]!))) {
      const ch = line[i]!;
      if (quote !== undefined) {
        if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === "'") quote = ch;
      i++;
    }
    out.push({ text: line.slice(start, i), at: base + start });
  }
  return out;
}

function lineCounterFor(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

export function convertIni(file: string, text: string, problems: PlaybookProblem[]): Converted {
  const lineCounter = lineCounterFor(text);
  const c: Collected = { groups: new Map(), hosts: new Map() };
  const bad = (message: string, at: number) => problems.push({ code: 'schema', message, pos: posAt({ file, lineCounter }, at) });
  let section: { kind: 'hosts' | 'children' | 'vars'; group?: Group } = { kind: 'hosts' };
  let offset = 0;
  for (const line of text.split('\n')) {
    const base = offset;
    offset += line.length + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const lead = line.length - line.trimStart().length;
    const header = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(trimmed);
    if (header) {
      const [name, suffix] = header[1]!.split(':') as [string, string | undefined];
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
        bad(`'[${header[1]}]' is not a group section; write [group], [group:children] or [group:vars]`, base + lead);
        section = { kind: 'vars' };
        continue;
      }
      if (suffix !== undefined && suffix !== 'children' && suffix !== 'vars') {
        bad(`'[${header[1]}]': a section is [${name}], [${name}:children] or [${name}:vars]`, base + lead);
        section = { kind: 'vars' };
        continue;
      }
      section = { kind: suffix ?? 'hosts', group: group(c, name, base + lead + 1) };
      continue;
    }
    if (section.kind === 'vars') {
      if (!section.group) continue; // a broken header, reported
      const eq = trimmed.indexOf('=');
      if (eq <= 0) {
        bad(`'${trimmed}' is not NAME=VALUE (a [${section.group.name}:vars] line)`, base + lead);
        continue;
      }
      const key = trimmed.slice(0, eq).trim();
      section.group.vars.set(key, { value: unquote(trimmed.slice(eq + 1).trim()), at: base + lead });
      continue;
    }
    const ws = words(line, base);
    if (section.kind === 'children') {
      for (const w of ws.slice(0, 1)) section.group!.children.push({ value: w.text, at: w.at });
      continue;
    }
    const [first, ...rest] = ws;
    if (!first) continue;
    const vars = new Map<string, At<Json>>();
    for (const w of rest) {
      const eq = w.text.indexOf('=');
      if (eq <= 0) {
        bad(`'${w.text}' is not NAME=VALUE; host variables are written key=value after the host name`, w.at);
        continue;
      }
      vars.set(w.text.slice(0, eq), { value: literal(w.text.slice(eq + 1)), at: w.at });
    }
    let pattern = first.text;
    // `host:2222` (not inside a range's brackets) is the port.
    const port = /^(.*[^\]:]|.*\]):([0-9]+)$/.exec(pattern);
    if (port && !pattern.endsWith(']')) {
      pattern = port[1]!;
      vars.set('ansible_port', { value: Number(port[2]), at: first.at + pattern.length + 1 });
    }
    const r = expandAnsiblePattern(pattern);
    if (!r.ok) {
      bad(`host pattern '${pattern}': ${r.message}`, first.at + r.offset);
      continue;
    }
    for (const n of r.names) addHost(c, section.group, n, first.at, vars);
  }
  return finish(file, text, lineCounter, c, problems);
}

export function convertAnsibleYaml(parsed: ParsedYaml, problems: PlaybookProblem[]): Converted {
  const c: Collected = { groups: new Map(), hosts: new Map() };
  const off = (path: ReadonlyArray<string | number>, which: 'key' | 'value' = 'value') => findOffset(parsed, path, which);
  const bad = (message: string, at: number) => problems.push({ code: 'schema', message, pos: posAt(parsed, at) });
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const walk = (name: string, raw: unknown, path: Array<string | number>, depth: number): void => {
    if (depth > 64) return;
    const g = group(c, name, off(path, 'key'));
    if (raw === null || raw === undefined) return;
    if (!isObj(raw)) {
      bad(`group '${name}' must be a mapping with hosts, children and vars`, off(path));
      return;
    }
    for (const k of Object.keys(raw))
      if (!GROUP_KEYS.has(k))
        bad(`unknown key '${k}' in Ansible group '${name}'; expected hosts, children or vars`, off([...path, k], 'key'));
    // As ansible-inventory does: each of these is a mapping (hosts: {w1:, w2:}, not a list).
    for (const k of ['hosts', 'children', 'vars'] as const) {
      const v = raw[k];
      if (v !== null && v !== undefined && !isObj(v))
        bad(
          `'${k}' of Ansible group '${name}' must be a mapping${k === 'vars' ? '' : `, one key per ${k === 'hosts' ? 'host' : 'group'} ('name:', not '- name')`}`,
          off([...path, k]),
        );
    }
    if (isObj(raw.vars))
      for (const [k, v] of Object.entries(raw.vars)) g.vars.set(k, { value: v as Json, at: off([...path, 'vars', k], 'key') });
    if (isObj(raw.hosts)) {
      for (const [pattern, hv] of entriesInOrder(parsed, [...path, 'hosts'], raw.hosts)) {
        const at = off([...path, 'hosts', pattern], 'key');
        const vars = new Map<string, At<Json>>();
        if (isObj(hv))
          for (const [k, v] of Object.entries(hv)) vars.set(k, { value: v as Json, at: off([...path, 'hosts', pattern, k], 'key') });
        else if (hv !== null) bad(`host '${pattern}' must be empty or a mapping of variables`, off([...path, 'hosts', pattern]));
        const r = expandAnsiblePattern(pattern);
        if (!r.ok) {
          bad(`host pattern '${pattern}': ${r.message}`, at + r.offset);
          continue;
        }
        for (const n of r.names) addHost(c, g, n, at, vars);
      }
    }
    if (isObj(raw.children)) {
      for (const [child, cv] of entriesInOrder(parsed, [...path, 'children'], raw.children)) {
        g.children.push({ value: child, at: off([...path, 'children', child], 'key') });
        walk(child, cv, [...path, 'children', child], depth + 1);
      }
    }
  };
  for (const [name, raw] of entriesInOrder(parsed, [], parsed.value as Record<string, unknown>)) walk(name, raw, [name], 0);
  return finish(parsed.file, parsed.text, parsed.lineCounter, c, problems);
}

/** Ansible names that become host fields; any other `ansible_*` is a warning. */
/** ansible_connection values we run, by short and full plugin name (docs/ansible.md). */
const CONNECTIONS = new Map<string, 'ssh' | 'local' | 'docker'>([
  ['ssh', 'ssh'],
  ['paramiko', 'ssh'],
  ['smart', 'ssh'],
  ['ansible.builtin.ssh', 'ssh'],
  ['ansible.builtin.paramiko_ssh', 'ssh'],
  ['ansible.netcommon.paramiko_ssh', 'ssh'],
  ['local', 'local'],
  ['ansible.builtin.local', 'local'],
  ['docker', 'docker'],
  ['community.docker.docker', 'docker'],
  ['community.docker.docker_api', 'docker'],
]);

const FIELD_VARS = new Set([
  'ansible_host',
  'ansible_port',
  'ansible_user',
  'ansible_ssh_private_key_file',
  'ansible_connection',
  'ansible_become_user',
  'ansible_become',
]);

const UNGROUPED = 'ungrouped';

function finish(file: string, text: string, lineCounter: LineCounter, c: Collected, problems: PlaybookProblem[]): Converted {
  const warnings: PlaybookProblem[] = [];
  const pos = (at: number) => posAt({ file, lineCounter }, at);
  const all = c.groups.get('all');
  // Parents before children: a child's vars win (Ansible's group depth), then by name.
  const parents = new Map<string, string[]>();
  for (const g of c.groups.values()) for (const ch of g.children) parents.set(ch.value, [...(parents.get(ch.value) ?? []), g.name]);
  const depthMemo = new Map<string, number>();
  const depth = (g: string, seen: string[] = []): number => {
    if (depthMemo.has(g)) return depthMemo.get(g)!;
    if (seen.includes(g)) return 0;
    const d = Math.max(0, ...(parents.get(g) ?? []).map((p) => depth(p, [...seen, g]) + 1));
    depthMemo.set(g, d);
    return d;
  };
  const memberOf = new Map<string, Set<string>>();
  const collect = (g: Group, seen: Set<string>): Set<string> => {
    const memo = memberOf.get(g.name);
    if (memo) return memo;
    const out = new Set(g.hosts);
    seen.add(g.name);
    for (const ch of g.children) {
      const cg = c.groups.get(ch.value);
      if (cg && !seen.has(cg.name)) for (const h of collect(cg, seen)) out.add(h);
    }
    memberOf.set(g.name, out);
    return out;
  };
  const ordered = [...c.groups.values()]
    .filter((g) => g.name !== 'all')
    .sort((a, b) => depth(a.name) - depth(b.name) || (a.name < b.name ? -1 : 1));
  for (const g of ordered) collect(g, new Set());

  const hosts: Record<string, Record<string, Json>> = {};
  const ranges: Array<{ path: Array<string | number>; at: number; key?: boolean }> = [];
  const warned = new Set<string>();
  for (const [name, h] of c.hosts) {
    const vars = new Map<string, At<Json>>(all?.vars ?? []);
    for (const g of ordered) if (memberOf.get(g.name)?.has(name)) for (const [k, v] of g.vars) vars.set(k, v);
    for (const [k, v] of h.vars) vars.set(k, v);
    const get = (k: string): At<Json> | undefined => vars.get(k);
    const conn = get('ansible_connection');
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice; String() kept as before
    const connection = conn === undefined ? 'ssh' : (CONNECTIONS.get(String(conn.value)) ?? 'ssh');
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice; String() kept as before
    if (conn && !CONNECTIONS.has(String(conn.value))) {
      warnings.push({
        code: 'schema',
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice; String() kept as before
        message: `ansible_connection=${String(conn.value)} is not supported here; host '${name}' is reached over ssh`,
        pos: pos(conn.at),
      });
    }
    const spec: Record<string, Json> = { transport: connection };
    const field = (k: string, target: string, want: 'string' | 'number' = 'string') => {
      const v = get(k);
      if (v === undefined) return;
      const n = Number(v.value);
      if (want === 'number' && !(Number.isInteger(n) && n >= 1 && n <= 65535)) {
        // Said once per place it is written, not once per host of a group or range.
        const id = `${k}@${v.at}`;
        if (!warned.has(id)) {
          warned.add(id);
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice
          problems.push({ code: 'schema', message: `${k} '${String(v.value)}' is not a port number (1 to 65535)`, pos: pos(v.at) });
        }
        return;
      }
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice; String() kept as before
      spec[target] = want === 'number' ? n : String(v.value);
      ranges.push({ path: ['hosts', name, target], at: v.at });
    };
    if (connection === 'ssh') {
      field('ansible_host', 'host');
      field('ansible_port', 'port', 'number');
      field('ansible_user', 'user');
      field('ansible_ssh_private_key_file', 'identity_file');
    } else if (connection === 'docker') {
      field('ansible_host', 'container');
    }
    const becomeFlag = get('ansible_become');
    const becomeOff =
      becomeFlag !== undefined &&
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- inventory values are scalars in practice; String() kept as before
      (becomeFlag.value === false || String(becomeFlag.value).toLowerCase() === 'false' || becomeFlag.value === 'no');
    if (!becomeOff) {
      if (get('ansible_become_user')) field('ansible_become_user', 'become');
      else if (becomeFlag) {
        spec.become = 'root';
        ranges.push({ path: ['hosts', name, 'become'], at: becomeFlag.at });
      }
    }
    const hv: Record<string, Json> = {};
    for (const [k, v] of vars) {
      if (FIELD_VARS.has(k)) continue;
      if (k.startsWith('ansible_')) {
        const id = `${k}@${v.at}`;
        if (!warned.has(id)) {
          warned.add(id);
          warnings.push({ code: 'schema', message: `${k} has no meaning in Chopsticks and is ignored`, pos: pos(v.at) });
        }
        continue;
      }
      hv[k] = v.value;
      ranges.push({ path: ['hosts', name, 'vars', k], at: v.at });
    }
    if (Object.keys(hv).length) spec.vars = hv;
    hosts[name] = spec;
    ranges.push({ path: ['hosts', name], at: h.at, key: true }, { path: ['hosts', name], at: h.at });
  }
  const groups: Record<string, string[]> = {};
  for (const g of c.groups.values()) {
    if (g.name === 'all') continue;
    groups[g.name] = [...g.hosts, ...g.children.map((ch) => ch.value).filter((ch) => ch !== 'all')];
    ranges.push({ path: ['groups', g.name], at: g.at, key: true }, { path: ['groups', g.name], at: g.at });
    g.children.forEach((ch, i) => ranges.push({ path: ['groups', g.name, g.hosts.length + i], at: ch.at }));
  }
  // Ansible's other built-in group: the hosts in no group but `all`. As Ansible reconciles
  // an inventory, a `[ungrouped]` written out gets those hosts too, and loses any host that is
  // also in another group. Its members point at where each host is written.
  const written = c.groups.get(UNGROUPED);
  const implicit = written === undefined;
  const grouped = new Set([...memberOf].filter(([g]) => g !== UNGROUPED).flatMap(([, s]) => [...s]));
  const members = [...c.hosts].filter(([n]) => !grouped.has(n));
  groups[UNGROUPED] = members.map(([n]) => n);
  if (implicit) ranges.push({ path: ['groups', UNGROUPED], at: 0, key: true }, { path: ['groups', UNGROUPED], at: 0 });
  members.forEach(([, h], i) => ranges.push({ path: ['groups', UNGROUPED, i], at: h.at }));
  const value: Record<string, unknown> = { hosts, groups };
  const doc = new Document(value);
  for (const r of ranges) setRange(doc, r.path, r.at, r.key === true);
  // The document's own range, for problems about the whole file.
  (doc.contents as { range?: [number, number, number] }).range = [0, 0, 0];
  const parsedDoc: ParsedYaml = {
    file,
    text,
    doc: doc as unknown as ParsedYaml['doc'],
    lineCounter,
    value,
    problems: [],
    aliasTargets: new Map(),
    ...(implicit ? { implicitGroups: new Set([UNGROUPED]) } : {}),
  };
  return { doc: parsedDoc, warnings };
}

function setRange(doc: Document, path: ReadonlyArray<string | number>, at: number, key: boolean): void {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return;
      if (last && key) {
        if (isScalar(pair.key)) pair.key.range = [at, at, at];
        return;
      }
      node = pair.value;
    } else if (isSeq(node)) node = node.items[Number(seg)];
    else return;
  }
  if (node && typeof node === 'object') (node as { range?: [number, number, number] }).range = [at, at, at];
}
