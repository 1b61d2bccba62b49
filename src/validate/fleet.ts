/**
 * Hosts of a fleet, written once: range keys (`web[01-40]`), `host_defaults:` and `group_vars:`
 * (docs/language.md#host-ranges, #host-defaults-and-group-vars). Part of normalise: raw host
 * definitions → one raw object per host name, with the source of each field recorded.
 *
 * Precedence, strongest first: the host's own fields and vars, group_vars (a later group in
 * `groups:` order wins; `all` is the weakest group), host_defaults, ~/.ssh/config (applied by
 * the ssh transport where the playbook is silent).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { expandHostRange, fillHostPlaceholder, isHostRange } from '../lang/hostlist.js';
import type { Json } from '../model/playbook.js';
import { entriesInOrder, findOffset, findPos, posAt, type ParsedYaml } from '../parse/parse-yaml.js';
import { buildHost } from './host-specs.js';
import { isObj, type Obj } from './load.js';

/** One host name from a host key (a range key gives many). */
export interface RawHost {
  name: string;
  /** The key as written (`web[01-40]`), for positions. */
  key: string;
  raw: unknown;
  doc: ParsedYaml;
  pos: SourcePos;
}

/** Host keys of one document → one entry per host name; bad ranges are reported at the key. */
export function expandHostKeys(doc: ParsedYaml, hosts: Obj, problems: PlaybookProblem[]): RawHost[] {
  const out: RawHost[] = [];
  for (const [key, raw] of entriesInOrder(doc, ['hosts'], hosts)) {
    const keyOffset = findOffset(doc, ['hosts', key], 'key');
    const pos = posAt(doc, keyOffset);
    if (!isHostRange(key)) {
      // `{host}` is the host's name in every host's fields, as in a range's (one rule to learn);
      // the host's own vars stay as written (a name written once needs no template).
      let fields: unknown = fillHostPlaceholder(raw, key);
      if (isObj(raw) && raw.vars !== undefined) fields = { ...fillHostPlaceholder({ ...raw, vars: undefined }, key), vars: raw.vars };
      out.push({ name: key, key, raw: fields, doc, pos });
      continue;
    }
    const r = expandHostRange(key);
    if (!r.ok) {
      problems.push({ code: 'host_name', message: `host range '${key}': ${r.message}`, pos: posAt(doc, keyOffset + r.offset) });
      continue;
    }
    for (const name of r.names) out.push({ name, key, raw: fillHostPlaceholder(raw, name), doc, pos });
  }
  return out;
}

const PATH_FIELDS = new Set(['identity_file', 'known_hosts', 'cwd']);

/** `host_defaults:` of every document, later documents winning per field; relative paths resolved against their file. */
export interface HostDefaults {
  fields: Record<'ssh' | 'docker' | 'local', Obj>;
  vars: Record<string, Json>;
  become?: string;
}

export function emptyDefaults(): HostDefaults {
  return { fields: { ssh: {}, docker: {}, local: {} }, vars: {} };
}

export function addDefaults(into: HostDefaults, raw: unknown, file: string): void {
  if (!isObj(raw)) return;
  for (const t of ['ssh', 'docker', 'local'] as const) {
    const sec = raw[t];
    if (!isObj(sec)) continue;
    for (const [k, v] of Object.entries(sec)) {
      into.fields[t][k] =
        PATH_FIELDS.has(k) && typeof v === 'string' && !isAbsolute(v) && v !== '~' && !v.startsWith('~/') ? resolve(dirname(file), v) : v;
    }
  }
  if (isObj(raw.vars)) Object.assign(into.vars, raw.vars);
  if (typeof raw.become === 'string') into.become = raw.become;
}

/** A string host (`ssh://deploy@h:2222`, `local`, ...) as the fields it sets, so defaults can fill the rest. */
function ownFields(h: RawHost, problems: PlaybookProblem[]): Obj | undefined {
  if (isObj(h.raw)) return h.raw;
  if (typeof h.raw !== 'string') return undefined;
  const spec = buildHost(h.name, h.raw, h.pos, () => findPos(h.doc, ['hosts', h.key]), problems);
  if (!spec) return undefined;
  switch (spec.transport) {
    case 'local':
      return { transport: 'local' };
    case 'docker':
      return { transport: 'docker', container: spec.container };
    case 'ssh':
      return {
        transport: 'ssh',
        host: spec.host,
        ...(spec.user !== undefined ? { user: spec.user } : {}),
        ...(spec.port !== undefined ? { port: spec.port } : {}),
      };
  }
}

const PLACEHOLDER = /(?<!\{)\{([^{}]*)\}(?!\})/;

/**
 * A placeholder left in a host's field once `{host}` is filled (`{vars.n}`, `{secrets.x}`):
 * hosts are resolved before any var or secret exists, so it would reach the transport as
 * written (`container bed-{vars.n} does not exist` at run time). Reported where it is written.
 */
export function checkHostPlaceholders(
  h: RawHost,
  filled: { raw: Obj; sources: Record<string, string> },
  problems: PlaybookProblem[],
  /** Said once per place it is written, not once per host of a range or of host_defaults. */
  said: Set<string>,
): void {
  for (const [k, v] of Object.entries(filled.raw)) {
    if (k === 'vars' || typeof v !== 'string') continue;
    const m = PLACEHOLDER.exec(v);
    if (!m) continue;
    const fromDefaults = filled.sources[k] === 'host_defaults';
    const path = isObj(h.raw) && !fromDefaults ? ['hosts', h.key, k] : ['hosts', h.key];
    const pos = findPos(h.doc, path, 'value');
    const id = `${pos.file}:${pos.line}:${pos.col}:${k}`;
    if (said.has(id)) continue;
    said.add(id);
    problems.push({
      code: 'schema',
      message:
        `host '${h.key}': {${m[1]}} in ${k}${fromDefaults ? ' (from host_defaults)' : ''} is never filled: hosts are resolved before vars ` +
        `and secrets, and only {host} (the host's name) is filled in their fields; write the value itself`,
      pos,
    });
  }
}

/**
 * The host's definition with host_defaults filled in, and where each field came from
 * (`host` or `host_defaults`); vars are merged later, once groups are known (applyGroupVars).
 */
export function withDefaults(
  h: RawHost,
  d: HostDefaults,
  problems: PlaybookProblem[],
): { raw: Obj; sources: Record<string, string> } | undefined {
  const own = ownFields(h, problems);
  if (!own) return undefined;
  const t = own.transport;
  const sources: Record<string, string> = {};
  const defaults = t === 'ssh' || t === 'docker' || t === 'local' ? d.fields[t] : {};
  const raw: Obj = {};
  for (const [k, v] of Object.entries(defaults)) {
    // A docker host naming its container does not take a default image, and the reverse.
    if (t === 'docker' && (k === 'image' || k === 'ephemeral') && own.container !== undefined) continue;
    if (t === 'docker' && k === 'container' && own.image !== undefined) continue;
    raw[k] = fillHostPlaceholder(v, h.name);
    sources[k] = 'host_defaults';
  }
  if (d.become !== undefined) {
    raw.become = fillHostPlaceholder(d.become, h.name);
    sources.become = 'host_defaults';
  }
  for (const [k, v] of Object.entries(own)) {
    if (k === 'vars') continue;
    raw[k] = v;
    if (k !== 'transport') sources[k] = 'host';
  }
  return { raw, sources };
}

/**
 * Host vars in precedence order: host_defaults.vars, then group_vars of each group the host is
 * in (`all` first, then groups in definition order), then the host's own vars. `sources` gets
 * `vars.NAME` → `host_defaults` | `group_vars.GROUP` | `host`. `{host}` in what defaults and
 * group_vars give is this host's name, as in a range's own strings (withDefaults does the same
 * for fields): they are written once for many hosts.
 */
export function mergeVars(
  host: string,
  own: Record<string, Json>,
  defaults: Record<string, Json>,
  groupVars: ReadonlyArray<{ group: string; vars: Record<string, Json> }>,
  sources: Record<string, string>,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  const set = (vars: Record<string, Json>, from: string, fill: boolean): void => {
    for (const [k, v] of Object.entries(vars)) {
      out[k] = fill ? fillHostPlaceholder(v, host) : v;
      sources[`vars.${k}`] = from;
    }
  };
  set(defaults, 'host_defaults', true);
  for (const g of groupVars) set(g.vars, `group_vars.${g.group}`, true);
  set(own, 'host', false);
  return out;
}
