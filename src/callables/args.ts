/**
 * Reading a callable's args. Validation checked them against the schemas already; these
 * checks repeat the essentials so a custom callable calling a built-in through
 * `HostHandle.call` gets a clear error instead of undefined behaviour.
 */
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import type { CallContext } from './types.js';

function bad(ctx: CallContext, callable: string, msg: string): HostError {
  return new HostError('failed', `${ctx.hostName}: ${callable}: ${msg}`);
}

export function optString(ctx: CallContext, callable: string, key: string): string | undefined {
  const v = ctx.args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(ctx, callable, `argument '${key}' must be a string`);
  return v;
}

export function reqString(ctx: CallContext, callable: string, key: string): string {
  const v = optString(ctx, callable, key);
  if (v === undefined) throw bad(ctx, callable, `argument '${key}' is required`);
  return v;
}

export function optStringArray(ctx: CallContext, callable: string, key: string): string[] | undefined {
  const v = ctx.args[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw bad(ctx, callable, `argument '${key}' must be a list of strings`);
  }
  return v;
}

export function optStringMap(ctx: CallContext, callable: string, key: string): Record<string, string> | undefined {
  const v: Json | undefined = ctx.args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(ctx, callable, `argument '${key}' must be a mapping of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw bad(ctx, callable, `argument '${key}.${k}' must be a string`);
    out[k] = x;
  }
  return out;
}

export function okCodes(ctx: CallContext, callable: string): number[] {
  const v = ctx.args.ok_codes;
  if (v === undefined || v === null) return [0];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x): x is number => Number.isInteger(x))) {
    throw bad(ctx, callable, `argument 'ok_codes' must be a non-empty list of integers`);
  }
  return v;
}
