/**
 * JSON Schema validation of a playbook or inventory document, with ajv errors turned into
 * positioned problems a user can act on (unknown keys with "did you mean", quoted-mode hint,
 * one message per step for "exactly one of call/filter/put/fetch").
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { PlaybookProblem } from '../errors.js';
import { closest } from '../lang/groups.js';
import { ENV_NAME_PATTERN } from '../lang/names.js';
import { BUILTIN_SIGNATURES } from '../callables/builtins.js';
import { STEP_KIND_NAMES } from '../steps/index.js';
import { COMMON_STEP_PROPS, kindKeys } from '../steps/schema.js';
import { findPos, sourceAt, type JsonPath, type ParsedYaml } from '../parse/parse-yaml.js';
import { checkValues } from './value-checks.js';

import type { DocKind } from './value-checks.js';

export type { DocKind } from './value-checks.js';

/**
 * The same options for the generated validators (schema-standalone.ts) and for anything compiled
 * at run time: both must report the same errors. `inlineRefs: false` keeps one function per
 * `$defs` entry instead of a copy at every reference: the generated module is 30% smaller, and
 * smaller to read and compile at every start.
 */
export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true, inlineRefs: false } as const;

const SCHEMA_URL = new URL('../../schema/playbook.schema.json', import.meta.url);

let compiled: { playbook: ValidateFunction; inventory: ValidateFunction; include: ValidateFunction; schema: SchemaJson } | undefined;

interface SchemaJson {
  $id: string;
  properties: Record<string, unknown>;
  $defs: Record<string, { properties?: Record<string, unknown>; allOf?: unknown[] }>;
}

let text: string | undefined;
function schemaText(): string {
  return (text ??= readFileSync(SCHEMA_URL, 'utf8'));
}

export function loadPlaybookSchema(): SchemaJson {
  return JSON.parse(schemaText()) as SchemaJson;
}

let pre: Record<string, ValidateFunction> | null | undefined;

let loadGenerated = (): Record<string, unknown> =>
  createRequire(import.meta.url)(fileURLToPath(new URL('../../schema/playbook.validate.cjs', import.meta.url))) as Record<string, unknown>;

/**
 * The CLI bundle (scripts/bundle-cli.mjs) carries the generated validators inside itself and
 * says so here, so they are read and compiled with the rest of it, from its code cache.
 */
export function setGeneratedValidators(load: () => Record<string, unknown>): void {
  loadGenerated = load;
  pre = undefined;
}

/** The generated validators module (schema/playbook.validate.cjs), or null when it is absent. */
export function precompiled(): Record<string, ValidateFunction> | null {
  if (pre !== undefined) return pre;
  try {
    const mod = loadGenerated();
    // A module generated from another schema would check the wrong rules: compile instead.
    pre = mod.sourceHash === validatorSourceHash() ? (mod as Record<string, ValidateFunction>) : null;
  } catch {
    pre = null;
  }
  return pre;
}

/** Hash of everything the generated validators are made from. */
export function validatorSourceHash(): string {
  return createHash('sha256')
    .update(schemaText())
    .update(JSON.stringify(BUILTIN_SIGNATURES))
    .update(JSON.stringify(AJV_OPTIONS))
    .digest('hex');
}

/**
 * Once per process. The precompiled module is used when present (fast start); otherwise the
 * schema is compiled here with the same options, so behaviour is the same either way.
 */
function validators(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  // ajv is CommonJS; createRequire avoids default-export interop differences between tsc and node.
  const require = createRequire(import.meta.url);
  const schema = loadPlaybookSchema();
  let playbook: ValidateFunction | undefined;
  let inventory: ValidateFunction | undefined;
  let include: ValidateFunction | undefined;
  {
    const pre = precompiled();
    if (pre) ({ playbook, inventory, include } = pre);
  }
  if (!playbook || !inventory || !include) {
    const Ajv2020 = require('ajv/dist/2020.js') as { default: new (opts: object) => AjvLike };
    const ajv = new Ajv2020.default(AJV_OPTIONS);
    ajv.addSchema(schema);
    playbook = ajv.getSchema(schema.$id);
    inventory = ajv.getSchema(`${schema.$id}#/$defs/inventory`);
    include = ajv.getSchema(`${schema.$id}#/$defs/include`);
  }
  if (!playbook || !inventory || !include) throw new Error('internal: playbook schema failed to compile');
  compiled = { playbook, inventory, include, schema };
  return compiled;
}

interface AjvLike {
  addSchema(s: object): unknown;
  getSchema(ref: string): ValidateFunction | undefined;
}

export function checkSchema(parsed: ParsedYaml, value: unknown, kind: DocKind): PlaybookProblem[] {
  const v = validators();
  const fn = kind === 'playbook' ? v.playbook : kind === 'include' ? v.include : v.inventory;
  const problems = fn(value) ? [] : translateErrors(parsed, value, fn.errors ?? [], v.schema, kind);
  problems.push(...checkValues(parsed, value, kind));
  return problems.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

const STEP_KIND_KEYS = kindKeys();
const KINDS = STEP_KIND_NAMES;

function splitPath(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(value: unknown, path: JsonPath): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  return cur;
}

function isStepPath(path: string[], kind: DocKind): boolean {
  return kind !== 'inventory' && path.length === 2 && path[0] === 'steps';
}
function isHostPath(path: string[]): boolean {
  return path.length === 2 && path[0] === 'hosts';
}

function stepKindsPresent(step: unknown): string[] {
  if (!step || typeof step !== 'object') return [];
  return KINDS.filter((k) => k in step);
}

const DURATION_KEYS = new Set(['timeout', 'retry_delay', 'connect_timeout', 'keepalive']);

function translateErrors(parsed: ParsedYaml, value: unknown, errors: ErrorObject[], schema: SchemaJson, kind: DocKind): PlaybookProblem[] {
  // anyOf/oneOf report their branches' failures too; keep only the combined error.
  const combined = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const covered = (e: ErrorObject): boolean =>
    combined.some((c) => c !== e && e.instancePath.startsWith(c.instancePath) && e.schemaPath.startsWith(c.schemaPath + '/'));

  const out: PlaybookProblem[] = [];
  const seen = new Set<string>();
  const push = (path: JsonPath, which: 'key' | 'value', code: PlaybookProblem['code'], message: string): void => {
    const pos = findPos(parsed, path, which);
    const id = `${pos.line}:${pos.col}:${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ code, message, pos });
  };

  for (const e of errors) {
    if (e.keyword === 'if' || covered(e)) continue;
    const path = splitPath(e.instancePath);
    const key = path[path.length - 1];
    const data = get(value, path);
    // Host and group names are checked with better messages by the semantic pass.
    const propertyName = (e as { propertyName?: string }).propertyName ?? (e.params as { propertyName?: string }).propertyName;
    if (e.keyword === 'propertyNames' || propertyName !== undefined) {
      if (path.length === 1 && (path[0] === 'hosts' || path[0] === 'groups')) continue;
      if (e.keyword === 'propertyNames') continue; // its inner error names the key
      const name = propertyName ?? '';
      push([...path, name], 'key', 'schema', badNameMessage(name, (e.params as { pattern?: string }).pattern));
      continue;
    }
    switch (e.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const p = e.params as { additionalProperty?: string; unevaluatedProperty?: string };
        const bad = p.additionalProperty ?? p.unevaluatedProperty ?? '';
        // A key whose value failed its own subschema counts as "unevaluated"; its own error says more.
        if (e.keyword === 'unevaluatedProperties' && keyAllowed(bad, path, value, schema, kind)) break;
        push([...path, bad], 'key', 'unknown_key', unknownKeyMessage(bad, path, value, schema, kind));
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        if (isStepPath(path, kind) && missing === 'as') {
          push(path, 'value', 'schema', "a filter step needs 'as: GROUP', the name of the group of hosts where it is true");
        } else if (isHostPath(path) && missing === 'transport') {
          push(path, 'value', 'schema', "a host object needs 'transport: ssh | docker | local'");
        } else {
          push(path, 'value', 'schema', `missing required key '${missing}'${path.length ? ` in ${describe(path)}` : ''}`);
        }
        break;
      }
      case 'oneOf': {
        if (isStepPath(path, kind)) {
          const present = stepKindsPresent(data);
          push(
            path,
            'value',
            'schema',
            present.length === 0
              ? `a step needs one of ${KINDS.join(', ')} (or include: FILE)`
              : `a step has more than one of ${KINDS.join(', ')} (${present.join(', ')}); split it into one step each`,
          );
        } else push(path, 'value', 'schema', `${describe(path)} ${e.message ?? 'is invalid'}`);
        break;
      }
      case 'anyOf': {
        push(path, 'value', 'schema', anyOfMessage(path, data));
        break;
      }
      case 'type': {
        if (key === 'mode' && typeof data === 'number') {
          push(path, 'value', 'octal_mode', octalModeMessage(parsed, path, data));
        } else if (isHostPath(path)) {
          push(
            path,
            'value',
            'schema',
            `host '${String(key)}' must be a string like ssh://user@host, docker://name or local, or an object with 'transport'`,
          );
        } else if (path.length === 2 && path[0] === 'groups') {
          push(path, 'value', 'schema', `group '${String(key)}' must be a list of names or an expression string`);
        } else {
          const t = (e.params as { type: string | string[] }).type;
          push(path, 'value', 'schema', `${describe(path)} must be ${typeWords(t)}, not ${jsonType(data)}`);
        }
        break;
      }
      case 'pattern': {
        // A filter's `as` is checked with the host and group name rule, and said once, there.
        if (key === 'as' && isStepPath(path.slice(0, -1), kind)) break;
        push(path, 'value', 'schema', patternMessage(path, data));
        break;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
        const hint = typeof data === 'string' ? closest(data, allowed) : undefined;
        push(path, 'value', 'schema', `${describe(path)} must be one of ${allowed.join(', ')}${hint ? `; did you mean '${hint}'?` : ''}`);
        break;
      }
      case 'const': {
        if (path.length === 1 && key === 'version') push(path, 'value', 'schema', 'version must be 1 (the only playbook format version)');
        else
          push(
            path,
            'value',
            'schema',
            `${describe(path)} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`,
          );
        break;
      }
      case 'minItems': {
        const n = (e.params as { limit: number }).limit;
        push(
          path,
          'value',
          'schema',
          `${describe(path)} needs at least ${n} ${path[0] === 'steps' && path.length === 1 ? 'step' : 'item'}${n === 1 ? '' : 's'}`,
        );
        break;
      }
      case 'minLength':
        push(path, 'value', 'schema', `${describe(path)} must not be empty`);
        break;
      case 'minimum':
      case 'maximum': {
        const p = e.params as { comparison: string; limit: number };
        push(path, 'value', 'schema', `${describe(path)} must be ${p.comparison} ${p.limit}, not ${JSON.stringify(data)}`);
        break;
      }
      default:
        push(path, 'value', 'schema', `${describe(path)} ${e.message ?? 'is invalid'}`);
    }
  }
  return out.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

function keyAllowed(bad: string, path: string[], value: unknown, schema: SchemaJson, kind: DocKind): boolean {
  if (isStepPath(path, kind)) {
    const present = stepKindsPresent(get(value, path));
    return present.some((k) => STEP_KIND_KEYS[k]!.includes(bad));
  }
  if (isHostPath(path)) {
    const host = get(value, path) as Record<string, unknown> | undefined;
    const branches = (schema.$defs.hostObject?.allOf ?? []) as Array<{
      if: { properties: { transport: { const: string } } };
      then: { properties: Record<string, unknown> };
    }>;
    const branch = branches.find((b) => b.if.properties.transport.const === host?.transport);
    return !!branch && bad in branch.then.properties;
  }
  return false;
}

function article(word: string): string {
  return /^[aeiou]|^ssh/i.test(word) ? 'an' : 'a';
}

function describe(path: JsonPath): string {
  if (path.length === 0) return 'the document';
  let s = '';
  for (const seg of path) s += typeof seg === 'number' || /^\d+$/.test(seg) ? `[${seg}]` : s ? `.${seg}` : seg;
  return `'${s}'`;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

export function typeWords(t: string | string[]): string {
  const words: Record<string, string> = {
    string: 'a string',
    object: 'a mapping',
    array: 'a list',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    null: 'null',
  };
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => words[x] ?? x).join(' or ');
}

/** A key that fails its mapping's `propertyNames` pattern. */
export function badNameMessage(name: string, pattern: string | undefined): string {
  return pattern === ENV_NAME_PATTERN
    ? `'${name}' is not an environment variable name: use letters, digits and '_', not starting with a digit`
    : `'${name}' is not a valid name here: use letters, digits, '_', '.', '-'`;
}

export function octalModeMessage(parsed: ParsedYaml, path: JsonPath, n: number): string {
  const src = sourceAt(parsed, path)?.trim();
  // `0644` and `644` mean their digits; YAML 1.2's octal `0o644` means the same bits.
  const m = src === undefined ? null : /^(?:0o)?(0?[0-7]{3,4})$/.exec(src);
  const digits = m ? m[1]!.padStart(4, '0') : String(n).padStart(4, '0');
  return `mode ${n} is a YAML integer; quote it: mode: "${digits}"`;
}

function patternMessage(path: JsonPath, data: unknown): string {
  const key = String(path[path.length - 1]);
  const shown = JSON.stringify(data);
  if (DURATION_KEYS.has(key)) return `${key}: ${shown} is not a duration; write e.g. "60s", "500ms", "1m" or a number of seconds`;
  if (key === 'mode') return `mode ${shown} is not an octal file mode; write it quoted, like "0644" or "0755"`;
  if (key === 'register') return `register: ${shown} must be a plain identifier (letters, digits, _), usable as {results.NAME}`;
  if (key === 'password_env') return `password_env must name an environment variable (like DEPLOY_PASSWORD), never hold the password`;
  if (path.length === 2 && path[0] === 'callables')
    return `callable '${key}': ${shown} must be a module path with an optional #export, like "./callables/deploy.mjs#deploy"`;
  return `${describe(path)}: ${shown} has the wrong format`;
}

function anyOfMessage(path: JsonPath, data: unknown): string {
  const key = String(path[0] === 'serial' ? 'serial' : path[path.length - 1]);
  const shown = JSON.stringify(data);
  if (key === 'max_failures') return `max_failures: ${shown} must be a number of hosts (0 or more) or a percentage like "10%"`;
  if (key === 'serial') return `serial: ${shown} must be a batch size N, a percentage "P%", or a list such as [1, 5, "50%"]`;
  return `${describe(path)}: ${shown} is not valid here`;
}

/**
 * A key that a `transport` host does not take: the message when it belongs to another
 * transport, else the keys it does take (`base`, then the transport's own).
 */
function hostKey(bad: string, transport: string | undefined, base: string[], schema: SchemaJson, place = ''): string | string[] {
  const branches = (schema.$defs.hostObject?.allOf ?? []) as Array<{
    if: { properties: { transport: { const: string } } };
    then: { properties: Record<string, unknown> };
  }>;
  const branch = branches.find((b) => b.if.properties.transport.const === transport);
  const elsewhere = branches.filter((b) => bad in b.then.properties).map((b) => b.if.properties.transport.const);
  if (transport && elsewhere.length > 0)
    return `'${bad}' is not a setting of ${article(transport)} ${transport} host${place} (it is one for ${elsewhere.join('/')} hosts)`;
  return [...base, ...Object.keys(branch?.then.properties ?? {})];
}

function unknownKeyMessage(bad: string, path: string[], value: unknown, schema: SchemaJson, kind: DocKind): string {
  let allowed: string[] = [];
  let where = '';
  if (path.length === 0) {
    allowed = Object.keys((kind === 'playbook' ? schema.properties : schema.$defs[kind]?.properties) ?? {});
    where =
      kind === 'playbook'
        ? ' at the top of the playbook'
        : kind === 'include'
          ? ' in an included file (it may hold steps, vars)'
          : ' in an inventory file (it may hold hosts, groups, host_defaults, group_vars, vars)';
  } else if (isStepPath(path, kind)) {
    const step = get(value, path);
    if (step !== null && typeof step === 'object' && 'include' in step) {
      const own = Object.keys((schema.$defs.step as { then?: { properties?: object } }).then?.properties ?? {});
      if (bad in COMMON_STEP_PROPS)
        return `an include step takes only ${own.join(', ')}; '${bad}' belongs on the included steps (set it on each step of the included file)`;
      const hint = closest(bad, own);
      return `unknown key '${bad}' in an include step; ${hint ? `did you mean '${hint}'?` : `it takes only ${own.join(', ')}`}`;
    }
    const present = stepKindsPresent(step);
    const common = Object.keys(COMMON_STEP_PROPS);
    const own = present.flatMap((k) => STEP_KIND_KEYS[k] ?? []);
    const owners = KINDS.filter((k) => STEP_KIND_KEYS[k]!.includes(bad));
    if (owners.length > 0 && present.length > 0) {
      return `'${bad}' is not a key of a ${present[0]} step (it belongs to ${owners.join('/')} steps)`;
    }
    allowed = [...common, ...own];
    where = ' in a step';
  } else if (isHostPath(path)) {
    const host = get(value, path) as Record<string, unknown> | undefined;
    const transport = typeof host?.transport === 'string' ? host.transport : undefined;
    const r = hostKey(bad, transport, Object.keys(schema.$defs.hostObject?.properties ?? {}), schema);
    if (typeof r === 'string') return r;
    allowed = r;
    where = transport ? ` for ${article(transport)} ${transport} host` : ' in a host';
  } else if (path.length === 2 && path[0] === 'host_defaults') {
    // host_defaults.ssh is what an ssh host says, written once: the same guidance as under hosts.
    const transport = path[1]!;
    const r = hostKey(bad, transport, [], schema, ' in host_defaults');
    if (typeof r === 'string') return r;
    allowed = r;
    where = ` in host_defaults.${transport}`;
  } else if (path.length === 1 && path[0] === 'host_defaults') {
    allowed = Object.keys((schema.properties.host_defaults as { properties: object }).properties);
    where = ' in host_defaults';
  } else if (path.length === 1 && path[0] === 'defaults') {
    allowed = Object.keys((schema.properties.defaults as { properties: object }).properties);
    where = ' in defaults';
  }
  const hint = closest(bad, allowed);
  return `unknown key '${bad}'${where}${hint ? `; did you mean '${hint}'?` : allowed.length ? `; expected one of ${allowed.join(', ')}` : ''}`;
}
