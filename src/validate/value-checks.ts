/**
 * Checks on values that JSON Schema cannot express well, run with the schema check:
 * durations longer than a timer can hold, and NUL characters where the value becomes a program
 * argument, a path or an environment variable (the kernel cannot take them; found at run time
 * they would fail every host). Call args are checked per callable in callable-args.ts.
 */
import type { PlaybookProblem } from '../errors.js';
import { checkDuration } from '../lang/durations.js';
import { findPos, type JsonPath, type ParsedYaml } from '../parse/parse-yaml.js';

export type DocKind = 'playbook' | 'inventory' | 'include';

const STEP_DURATIONS = ['timeout', 'retry_delay'];
const HOST_DURATIONS = ['connect_timeout', 'keepalive'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export const NUL_MESSAGE = 'contains a NUL character (\\0), which no program argument, path or environment variable can hold; remove it';

export function checkValues(parsed: ParsedYaml, value: unknown, kind: DocKind): PlaybookProblem[] {
  const out: PlaybookProblem[] = [];
  if (!isObj(value)) return out;
  const duration = (obj: unknown, keys: string[], path: JsonPath): void => {
    if (!isObj(obj)) return;
    for (const k of keys) {
      const v = obj[k];
      if (typeof v !== 'string' && typeof v !== 'number') continue;
      const r = checkDuration(v);
      if (r.ok) continue;
      const shown = JSON.stringify(v);
      // Badly written strings are the schema's (pattern); numbers it lets through (NaN) are ours.
      // A negative number is the schema's too (minimum).
      if (r.reason === 'format' && typeof v === 'number' && !(v < 0)) {
        out.push({
          code: 'schema',
          message: `${k}: ${String(v)} is not a duration; write e.g. "60s" or a number of seconds`,
          pos: findPos(parsed, [...path, k]),
        });
      } else if (r.reason === 'too_long') {
        const hint = k === 'timeout' ? ' or leave timeout out for no limit' : '';
        out.push({
          code: 'schema',
          message: `${k}: ${shown} is longer than 2^31-1 ms (about 24.8 days), the longest wait Chopsticks can time; give a shorter duration${hint}`,
          pos: findPos(parsed, [...path, k], 'key'),
        });
      }
    }
  };
  if (kind === 'playbook') {
    duration(value.defaults, STEP_DURATIONS, ['defaults']);
    if (Array.isArray(value.steps)) value.steps.forEach((s, i) => duration(s, STEP_DURATIONS, ['steps', i]));
  }
  if (isObj(value.hosts)) for (const [name, h] of Object.entries(value.hosts)) duration(h, HOST_DURATIONS, ['hosts', name]);

  // Vars are data for templates, args are checked per callable, names are only shown.
  const skip = (path: JsonPath): boolean => {
    const [a, , c] = path;
    if (path.length === 1) return a === 'vars' || a === 'name';
    if (path.length === 3 && a === 'hosts') return c === 'vars';
    if (path.length === 3 && a === 'steps') return c === 'args' || c === 'name';
    return false;
  };
  const walk = (v: unknown, path: JsonPath): void => {
    if (skip(path)) return;
    if (typeof v === 'string') {
      if (v.includes('\0')) out.push({ code: 'schema', message: `${describe(path)} ${NUL_MESSAGE}`, pos: findPos(parsed, path) });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  return out;
}

function describe(path: JsonPath): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return `'${s}'`;
}
