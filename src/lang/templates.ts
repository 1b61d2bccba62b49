/**
 * Templates (docs/language.md#templates), in the style of Python's `str.format`:
 *   `{host}`                the host's name
 *   `{vars.NAME...}`        playbook vars (after inventory and --var)
 *   `{hostvars.NAME...}`    this host's own vars
 *   `{results.REG...}`      this host's value of a registered step; numeric segments index arrays
 *   `{{` `}}`               literal braces
 * A string that is exactly one placeholder keeps the JSON type of the value; otherwise
 * values are stringified (strings as-is, anything else as JSON).
 *
 * Lookups only ever follow OWN properties of plain objects and indexes of arrays, so remote
 * data (results) can never reach a prototype: `{results.x.__proto__}` fails like any
 * missing key. Rendered objects are built fresh, with `__proto__` keys defined as plain data.
 *
 * `checkTemplate(text, known)` finds what can be known before the run:
 *   known.vars         the playbook vars: `vars.*` paths must exist in them
 *   known.registers    registers defined by steps BEFORE this one: `results.R` needs R here
 *   known.hostvarNames optional; when given, `hostvars.X` needs X in it (the union of every
 *                      host's var names)
 *   known.missingOn    optional; a host the step surely runs on that lacks `hostvars.X` or
 *                      `results.R` (a host that only may run it fails at run time instead)
 */
import type { Json } from '../model/playbook.js';
import { closest } from './groups.js';

export type TemplatePart = { type: 'text'; text: string } | { type: 'ref'; path: string[]; offset: number };

export type ParseTemplateResult = { ok: true; parts: TemplatePart[] } | { ok: false; message: string; offset: number };

export const TEMPLATE_ROOTS = ['host', 'vars', 'hostvars', 'results', 'item', 'secrets'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function parseTemplate(text: string): ParseTemplateResult {
  const parts: TemplatePart[] = [];
  let buf = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{') {
      if (text[i + 1] === '{') {
        buf += '{';
        i += 2;
        continue;
      }
      const end = text.indexOf('}', i + 1);
      const open = text.indexOf('{', i + 1);
      if (end < 0 || (open >= 0 && open < end)) {
        return { ok: false, message: "unclosed '{' in template (write '{{' for a literal brace)", offset: i };
      }
      const inner = text.slice(i + 1, end);
      if (inner.trim() === '') {
        return { ok: false, message: "empty placeholder '{}': write {host}, {vars.NAME}, {hostvars.NAME} or {results.NAME}", offset: i };
      }
      const path = inner.split('.');
      const bad = path.find((s) => !SEGMENT.test(s));
      if (bad !== undefined) {
        return {
          ok: false,
          message: `invalid placeholder '{${inner}}': a placeholder is a dotted path of names and indexes such as {results.os.id} (write '{{' and '}}' for literal braces)`,
          offset: i,
        };
      }
      if (buf) parts.push({ type: 'text', text: buf });
      buf = '';
      parts.push({ type: 'ref', path, offset: i });
      i = end + 1;
    } else if (c === '}') {
      if (text[i + 1] === '}') {
        buf += '}';
        i += 2;
        continue;
      }
      return { ok: false, message: "single '}' in template (write '}}' for a literal brace)", offset: i };
    } else {
      buf += c;
      i++;
    }
  }
  if (buf) parts.push({ type: 'text', text: buf });
  return { ok: true, parts };
}

/** True when the text holds at least one placeholder (a malformed template counts, so it gets checked). */
export function isTemplate(text: string): boolean {
  const r = parseTemplate(text);
  return !r.ok || r.parts.some((p) => p.type === 'ref');
}

export interface TemplateEnv {
  host?: string;
  vars: Record<string, Json>;
  hostvars?: Record<string, Json>;
  results?: Record<string, Json>;
  /** The current item of a step's `loop:`. */
  item?: Json;
  /** Secret values, only while a run renders a step (docs/language.md#secrets); undefined in plan/validate. */
  secrets?: Record<string, string>;
}

export type RenderResult = { ok: true; value: Json } | { ok: false; message: string };

/**
 * On a host's `results` object: why a register it has no value for is missing (its step failed
 * or was skipped there), so the error says that rather than "no key". A symbol: not a key a
 * template can read, and not in any JSON.
 */
export const WHY_NO_RESULT = Symbol('chopsticks.whyNoResult');

export type ResultsEnv = Record<string, Json> & { [WHY_NO_RESULT]?: ReadonlyMap<string, string> };

function isPlainObject(v: unknown): v is Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Follow `path` from `start`; own properties and array indexes only. */
function follow(start: Json, path: readonly string[], shown: string): { ok: true; value: Json } | { ok: false; message: string } {
  let cur: Json = start;
  let where = shown;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return { ok: false, message: `${where} is a list; '${seg}' is not an index` };
      const idx = Number(seg);
      if (idx >= cur.length) return { ok: false, message: `${where} has ${cur.length} item(s); there is no index ${seg}` };
      cur = cur[idx]!;
    } else if (isPlainObject(cur)) {
      if (!hasOwn(cur, seg)) return { ok: false, message: `${where} has no key '${seg}'` };
      cur = cur[seg]!;
    } else {
      return { ok: false, message: `${where} is ${cur === null ? 'null' : typeof cur}; it has no '${seg}'` };
    }
    where = `${where}.${seg}`;
  }
  return { ok: true, value: cur };
}

function resolveRef(path: readonly string[], env: TemplateEnv): { ok: true; value: Json } | { ok: false; message: string } {
  const root = path[0]!;
  const ref = `{${path.join('.')}}`;
  const fail = (why: string) => ({ ok: false as const, message: `template ${ref}: ${why}` });
  let r: { ok: true; value: Json } | { ok: false; message: string };
  switch (root) {
    case 'host':
      if (env.host === undefined) return fail('there is no host here');
      if (path.length > 1) return fail(`{host} is the host's name; it has no '${path[1]}'`);
      return { ok: true, value: env.host };
    case 'vars':
      r = follow(env.vars, path.slice(1), 'vars');
      break;
    case 'hostvars':
      r = follow(env.hostvars ?? {}, path.slice(1), 'hostvars');
      break;
    case 'results':
      if (env.results === undefined) return fail('no results are available here');
      r = follow(env.results, path.slice(1), 'results');
      if (!r.ok && path[1] !== undefined && !hasOwn(env.results, path[1])) {
        const why = (env.results as ResultsEnv)[WHY_NO_RESULT]?.get(path[1]);
        if (why !== undefined) return fail(why);
      }
      break;
    case 'item':
      if (env.item === undefined) return fail('{item} exists only in a step with loop:');
      r = follow(env.item, path.slice(1), 'item');
      break;
    case 'secrets': {
      const name = path[1];
      if (env.secrets === undefined) return fail('secrets are read only when a run starts');
      if (name === undefined || path.length > 2 || !hasOwn(env.secrets, name))
        return fail(`no secret '${path.slice(1).join('.')}' is declared`);
      return { ok: true, value: env.secrets[name]! };
    }
    default:
      return fail(`unknown name '${root}'; use host, vars, hostvars, results or secrets`);
  }
  return r.ok ? r : fail(r.message);
}

function stringify(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function renderTemplate(text: string, env: TemplateEnv): RenderResult {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return { ok: false, message: `template error at offset ${parsed.offset}: ${parsed.message}` };
  const { parts } = parsed;
  if (parts.length === 1 && parts[0]!.type === 'ref') {
    const r = resolveRef(parts[0]!.path, env);
    return r.ok ? { ok: true, value: copyJson(r.value) } : r;
  }
  let out = '';
  for (const p of parts) {
    if (p.type === 'text') out += p.text;
    else {
      const r = resolveRef(p.path, env);
      if (!r.ok) return r;
      out += stringify(r.value);
    }
  }
  return { ok: true, value: out };
}

function setOwn(obj: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** A fresh copy, so a rendered value never aliases results or vars. */
function copyJson(v: Json): Json {
  if (Array.isArray(v)) return v.map(copyJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v)) setOwn(out, k, copyJson(v[k]!));
    return out;
  }
  return v;
}

export type RenderArgsResult = { ok: true; value: Record<string, Json> } | { ok: false; message: string; path: string };

function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

function renderValue(v: Json, env: TemplateEnv, path: string): { ok: true; value: Json } | { ok: false; message: string; path: string } {
  if (typeof v === 'string') {
    const r = renderTemplate(v, env);
    return r.ok ? r : { ...r, path };
  }
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = renderValue(v[i]!, env, childPath(path, i));
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v)) {
      const r = renderValue(v[k]!, env, childPath(path, k));
      if (!r.ok) return r;
      setOwn(out, k, r.value);
    }
    return { ok: true, value: out };
  }
  return { ok: true, value: v };
}

/** Render every string in args (keys are left alone). `path` names the failing arg, e.g. `env.HOME` or `argv[2]`. */
export function renderArgs(args: Record<string, Json>, env: TemplateEnv): RenderArgsResult {
  const r = renderValue(args, env, '');
  if (!r.ok) return r;
  return { ok: true, value: r.value as Record<string, Json> };
}

export interface TemplateKnown {
  vars: Record<string, Json>;
  registers: ReadonlySet<string>;
  hostvarNames?: ReadonlySet<string>;
  /** The step has a `loop:`, so `{item}` is defined. */
  item?: boolean;
  /** Declared secret names; when given, `secrets.X` needs X in it. */
  secrets?: ReadonlySet<string>;
  /**
   * Optional: a host the step surely runs on that will not have `hostvars.NAME` / `results.NAME`
   * (it lacks the var; the registering step never targets it), with why; undefined when none.
   */
  missingOn?: (root: 'hostvars' | 'results', name: string) => string | undefined;
}

export interface TemplateProblem {
  message: string;
  /** Offset in the template text (of the `{` for a placeholder). */
  offset: number;
}

function hint(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean '${c}'?)`;
}

/** Problems that can be found before the run; empty when the template is fine. */
export function checkTemplate(text: string, known: TemplateKnown): TemplateProblem[] {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return [{ message: parsed.message, offset: parsed.offset }];
  const problems: TemplateProblem[] = [];
  for (const p of parsed.parts) {
    if (p.type !== 'ref') continue;
    const [root, ...rest] = p.path as [string, ...string[]];
    const ref = `{${p.path.join('.')}}`;
    const add = (message: string) => problems.push({ message: `template ${ref}: ${message}`, offset: p.offset });
    switch (root) {
      case 'host':
        if (rest.length > 0) add(`{host} is the host's name; it has no '${rest[0]}'`);
        break;
      case 'vars': {
        if (rest.length === 0) break;
        const r = follow(known.vars, rest, 'vars');
        if (!r.ok) {
          const first = rest[0]!;
          if (!hasOwn(known.vars, first)) add(`no var '${first}' is defined${hint(first, Object.keys(known.vars))}`);
          else add(r.message);
        }
        break;
      }
      case 'hostvars': {
        const first = rest[0];
        if (first !== undefined && known.hostvarNames && !known.hostvarNames.has(first)) {
          add(`no host defines var '${first}'${hint(first, known.hostvarNames)}`);
        } else if (first !== undefined) {
          const why = known.missingOn?.('hostvars', first);
          if (why !== undefined) add(why);
        }
        break;
      }
      case 'results': {
        const first = rest[0];
        if (first === undefined) break;
        if (!known.registers.has(first)) {
          add(`no earlier step has 'register: ${first}'${hint(first, known.registers)}`);
        } else {
          const why = known.missingOn?.('results', first);
          if (why !== undefined) add(why);
        }
        break;
      }
      case 'item':
        if (!known.item) add('{item} exists only in a step with loop:');
        break;
      case 'secrets': {
        const first = rest[0];
        if (first === undefined || rest.length > 1) add('a secret is {secrets.NAME}: a string, it has no keys');
        else if (known.secrets && !known.secrets.has(first))
          add(`no secret '${first}' is declared under secrets:${hint(first, known.secrets)}`);
        break;
      }
      default:
        add(`unknown name '${root}'; use host, vars, hostvars, results or secrets${hint(root, TEMPLATE_ROOTS)}`);
    }
  }
  return problems;
}
