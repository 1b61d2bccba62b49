/**
 * The JSON guard (docs/language.md#call): what a host returns must be data and nothing more.
 *
 * A value is JSON only if built from null, booleans, finite numbers, strings, arrays and
 * plain objects, no deeper than `maxDepth` containers, no larger than `maxBytes` serialized,
 * and holding no `__proto__` key nor a `constructor` key whose value has a `prototype` key
 * (the shapes that turn a later object merge into prototype pollution).
 *
 * Both entry points return a FRESH copy, so the caller stores something nobody else holds.
 */
import type { Json } from '../model/playbook.js';

export interface JsonLimits {
  /** Serialized size limit in bytes (UTF-8, as JSON.stringify writes it). Default 1 MiB. */
  maxBytes?: number;
  /** Container nesting limit. Default 512. */
  maxDepth?: number;
}

export const DEFAULT_MAX_BYTES = 1048576;
export const DEFAULT_MAX_DEPTH = 512;

export type JsonGuardResult = { ok: true; value: Json; bytes: number } | { ok: false; message: string };

class NotJson extends Error {}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyPath(base: string, key: string): string {
  return IDENT.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function describeBytes(n: number): string {
  if (n % 1048576 === 0) return `${n} bytes (${n / 1048576} MiB)`;
  if (n % 1024 === 0) return `${n} bytes (${n / 1024} KiB)`;
  return `${n} bytes`;
}

function typeName(v: object): string {
  const proto = Object.getPrototypeOf(v) as { constructor?: unknown } | null;
  const ctor = proto && Object.prototype.hasOwnProperty.call(proto, 'constructor') ? proto.constructor : undefined;
  // A class can redefine its own `name` (static name = 5): only a non-empty string is used.
  const ctorName: unknown = typeof ctor === 'function' ? ctor.name : undefined;
  const name = typeof ctorName === 'string' && ctorName ? ctorName : 'object with a custom prototype';
  return `a ${name}`;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

class Walker {
  bytes = 0;
  private readonly ancestors = new Set<object>();
  constructor(
    private readonly maxBytes: number,
    private readonly maxDepth: number,
  ) {}

  private count(n: number, path: string): void {
    this.bytes += n;
    if (this.bytes > this.maxBytes) {
      throw new NotJson(`${path}: value is larger than the limit of ${describeBytes(this.maxBytes)}`);
    }
  }

  copy(v: unknown, path: string, depth: number): Json {
    switch (typeof v) {
      case 'string':
        this.count(utf8Length(JSON.stringify(v)), path);
        return v;
      case 'boolean':
        this.count(v ? 4 : 5, path);
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new NotJson(`${path}: ${v} is not JSON`);
        this.count(String(v).length, path);
        return Object.is(v, -0) ? 0 : v;
      case 'undefined':
        throw new NotJson(`${path}: undefined is not JSON`);
      case 'bigint':
        throw new NotJson(`${path}: a BigInt (${v}n) is not JSON; return it as a string or a number`);
      case 'symbol':
        throw new NotJson(`${path}: a symbol is not JSON`);
      case 'function':
        throw new NotJson(`${path}: a function is not JSON`);
      case 'object':
        if (v === null) {
          this.count(4, path);
          return null;
        }
        return this.copyContainer(v, path, depth + 1);
    }
  }

  private copyContainer(v: object, path: string, depth: number): Json {
    if (depth > this.maxDepth) throw new NotJson(`${path}: nested deeper than ${this.maxDepth} levels`);
    if (this.ancestors.has(v)) throw new NotJson(`${path}: a cycle (the value contains itself) is not JSON`);
    const proto: unknown = Object.getPrototypeOf(v);
    const isArray = Array.isArray(v);
    if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) {
      throw new NotJson(`${path}: ${typeName(v)} is not JSON; return plain objects, arrays, strings, numbers, booleans or null`);
    }
    if (Object.getOwnPropertySymbols(v).length > 0) throw new NotJson(`${path}: a symbol key is not JSON`);
    this.ancestors.add(v);
    try {
      if (isArray) return this.copyArray(v as unknown[], path, depth);
      return this.copyObject(v, path, depth);
    } finally {
      this.ancestors.delete(v);
    }
  }

  private copyArray(arr: unknown[], path: string, depth: number): Json[] {
    this.count(2 + Math.max(0, arr.length - 1), path);
    const out: Json[] = [];
    for (let i = 0; i < arr.length; i++) {
      const p = `${path}[${i}]`;
      if (!Object.prototype.hasOwnProperty.call(arr, i)) throw new NotJson(`${p}: a hole in an array is not JSON`);
      out.push(this.copy(dataOf(arr, String(i), p), p, depth));
    }
    return out;
  }

  private copyObject(obj: object, path: string, depth: number): Json {
    const keys = Object.keys(obj);
    this.count(2 + Math.max(0, keys.length - 1), path);
    const out: Record<string, Json> = {};
    for (const k of keys) {
      const p = keyPath(path, k);
      if (k === '__proto__') throw new NotJson(`${p}: a '__proto__' key is not allowed in results`);
      const value = dataOf(obj, k, p);
      if (k === 'constructor' && typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'prototype')) {
        throw new NotJson(`${p}: a 'constructor' key holding 'prototype' is not allowed in results`);
      }
      this.count(utf8Length(JSON.stringify(k)) + 1, p);
      out[k] = this.copy(value, p, depth);
    }
    return out;
  }
}

/** An own data property's value; a getter is code, not data, and is never called. */
function dataOf(obj: object, key: string, path: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d || !('value' in d)) throw new NotJson(`${path}: a getter/setter property is not JSON`);
  return d.value;
}

function limitsOf(limits: JsonLimits | undefined): { maxBytes: number; maxDepth: number } {
  return { maxBytes: limits?.maxBytes ?? DEFAULT_MAX_BYTES, maxDepth: limits?.maxDepth ?? DEFAULT_MAX_DEPTH };
}

/** Check that `v` is JSON within limits; returns a fresh copy and its serialized size. */
export function checkJsonValue(v: unknown, limits?: JsonLimits): JsonGuardResult {
  const { maxBytes, maxDepth } = limitsOf(limits);
  const w = new Walker(maxBytes, maxDepth);
  try {
    const value = w.copy(v, '$', 0);
    return { ok: true, value, bytes: w.bytes };
  } catch (e) {
    if (e instanceof NotJson) return { ok: false, message: e.message };
    if (e instanceof RangeError) return { ok: false, message: '$: value is too deeply nested to inspect' };
    throw e;
  }
}

/**
 * Parse JSON text from an untrusted source. Size and nesting depth are checked by a plain scan
 * BEFORE JSON.parse, so neither a huge text nor `[[[[...` a million deep reaches the parser.
 */
export function parseJsonLimited(text: string, limits?: JsonLimits): JsonGuardResult {
  const { maxBytes, maxDepth } = limitsOf(limits);
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the exact count when clearly within limits.
  const size = text.length * 3 <= maxBytes ? text.length : utf8Length(text);
  if (size > maxBytes)
    return { ok: false, message: `$: JSON text of ${size} bytes is larger than the limit of ${describeBytes(maxBytes)}` };
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return { ok: false, message: `JSON nested deeper than ${maxDepth} levels (at offset ${i})` };
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `invalid JSON: ${(e as Error).message}` };
  }
  return checkJsonValue(parsed, { maxBytes, maxDepth });
}
