/**
 * Checks a step's `args` against its callable's JSON Schema. A string that is a template may
 * become any JSON type at run time (a lone placeholder keeps its value's type): one that reads
 * only playbook vars is filled first (`withVarsFilled`) and checked as the run will see it;
 * errors at any other template value are left to the run.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Json } from '../model/playbook.js';
import { closest } from '../lang/groups.js';
import { isTemplate } from '../lang/templates.js';
import { fillVarsOnly } from '../steps/fill-vars.js';
import { AJV_OPTIONS, badNameMessage, precompiled, typeWords } from './schema-check.js';
import { builtinExportName } from './schema-standalone.js';
import { NUL_MESSAGE } from './value-checks.js';

export interface ArgProblem {
  /** Path inside args (empty for the args object itself). */
  path: string[];
  /** 'key' when the problem is an unknown arg name. */
  which: 'key' | 'value';
  message: string;
}

let ajv: { compile(s: object): ValidateFunction } | undefined;
const cache = new Map<string, ValidateFunction | Error>();

function compileSchema(key: string, schema: object): ValidateFunction | Error {
  let fn = cache.get(key);
  if (fn) return fn;
  // Built-ins are precompiled with the playbook schema; a stale or missing module falls back below.
  const builtin = key.startsWith('builtin:') ? precompiled()?.[builtinExportName(key.slice('builtin:'.length))] : undefined;
  if (builtin) {
    cache.set(key, builtin);
    return builtin;
  }
  if (!ajv) {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020.js') as { default: new (opts: object) => typeof ajv };
    ajv = new Ajv2020.default(AJV_OPTIONS)!;
  }
  try {
    fn = ajv.compile(schema);
  } catch (e) {
    fn = e instanceof Error ? e : new Error(String(e));
  }
  cache.set(key, fn);
  return fn;
}

/** Args with each template that reads only playbook vars replaced by its value; other templates kept. */
export function withVarsFilled(v: Json, vars: Record<string, Json>): Json {
  if (typeof v === 'string') {
    if (!isTemplate(v)) return v;
    const filled = fillVarsOnly(v, vars);
    // A string that still holds a placeholder (host, results, item) is decided at run time.
    return typeof filled === 'string' && isTemplate(filled) ? v : filled;
  }
  if (Array.isArray(v)) return v.map((x) => withVarsFilled(x, vars));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withVarsFilled(x, vars)]));
  return v;
}

export function checkArgs(callable: string, cacheKey: string, schema: object, args: Record<string, Json>): ArgProblem[] {
  const fn = compileSchema(cacheKey, schema);
  if (fn instanceof Error) {
    return [{ path: [], which: 'value', message: `callable '${callable}' exports a schema that is not valid JSON Schema: ${fn.message}` }];
  }
  const out: ArgProblem[] = cacheKey.startsWith('builtin:') ? nulProblems(callable, args) : [];
  if (fn(args)) return out;
  for (const e of fn.errors ?? []) {
    const problem = translate(callable, schema, e, args);
    if (problem && !out.some((p) => p.message === problem.message && p.path.join('.') === problem.path.join('.'))) out.push(problem);
  }
  return out;
}

function translate(callable: string, schema: object, e: ErrorObject, args: Record<string, Json>): ArgProblem | undefined {
  const path =
    e.instancePath === ''
      ? []
      : e.instancePath
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (templated(args, path)) return undefined;
  const where = path.length ? `arg '${path.join('.')}'` : 'args';
  const propertyName = (e as { propertyName?: string }).propertyName;
  // Its inner error names the key (propertyNames) or what is missing (if/then).
  if (e.keyword === 'propertyNames' || e.keyword === 'if') return undefined;
  if (propertyName !== undefined) {
    return {
      path: [...path, propertyName],
      which: 'key',
      message: `${callable}: ${where}: ${badNameMessage(propertyName, (e.params as { pattern?: string }).pattern)}`,
    };
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const bad = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = propertiesAt(schema, path);
      const hint = closest(bad, allowed);
      const expect = hint ? `; did you mean '${hint}'?` : allowed.length ? `; it takes ${allowed.join(', ')}` : '; it takes no args';
      return { path: [...path, bad], which: 'key', message: `${callable}: unknown arg '${[...path, bad].join('.')}'${expect}` };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path, which: 'value', message: `${callable} needs arg '${[...path, missing].join('.')}'` };
    }
    case 'type':
      return {
        path,
        which: 'value',
        message: `${callable}: ${where} must be ${typeWords((e.params as { type: string | string[] }).type)}`,
      };
    case 'enum':
      return {
        path,
        which: 'value',
        message: `${callable}: ${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ')}`,
      };
    default:
      return { path, which: 'value', message: `${callable}: ${where} ${e.message ?? 'is invalid'}` };
  }
}

/** Args from which a built-in makes argv, paths or environment: no NUL can pass (stdin can hold one). */
function nulProblems(callable: string, args: Record<string, Json>): ArgProblem[] {
  const out: ArgProblem[] = [];
  const walk = (v: Json, path: string[]): void => {
    if (path.length === 1 && path[0] === 'stdin') return;
    if (typeof v === 'string') {
      if (v.includes('\0')) out.push({ path, which: 'value', message: `${callable}: arg '${path.join('.')}' ${NUL_MESSAGE}` });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0'))
          out.push({ path: [...path, k], which: 'key', message: `${callable}: arg name '${[...path, k].join('.')}' ${NUL_MESSAGE}` });
        walk(x, [...path, k]);
      }
    }
  };
  walk(args, []);
  return out;
}

/** True when the value at path, or a string on the way to it, is a template (decided at run time). */
function templated(args: Json, path: string[]): boolean {
  let cur: Json | undefined = args;
  for (let i = 0; i <= path.length; i++) {
    if (typeof cur === 'string') return isTemplate(cur);
    if (i === path.length || cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, Json>)[path[i]!];
  }
  return false;
}

/** Property names the schema declares for the object at `path` (plain `properties` only). */
function propertiesAt(schema: object, path: string[]): string[] {
  let cur: unknown = schema;
  for (const seg of path) {
    const props = (cur as { properties?: Record<string, unknown> } | undefined)?.properties;
    cur = props?.[seg] ?? (cur as { items?: unknown } | undefined)?.items;
  }
  const props = (cur as { properties?: object } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}
