/**
 * JSON text of a report whose host-keyed objects keep the hosts' definition order. A JS object
 * lists keys that look like array indices first (`"3"` before `"20"` before `"web1"`), so
 * `JSON.stringify` alone would write `results` of hosts `b, 20, 3` as `3, 20, b`
 * (docs/cli.md#the-run-report---json: results follow `targets`).
 */

/** Key orders for objects that must not be written in JS object order. */
const keyOrder = new WeakMap<object, readonly string[]>();

/** `obj`, marked to be written with its keys in `keys`' order. */
export function inKeyOrder<T extends object>(obj: T, keys: readonly string[]): T {
  keyOrder.set(obj, keys);
  return obj;
}

/** As `JSON.stringify(value, null, 2)`, with objects marked by inKeyOrder written in their order. */
export function orderedJson(value: unknown): string {
  return write(value, '');
}

function write(value: unknown, indent: string): string {
  // A report holds JSON only (host results are checked when they arrive).
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v: unknown) => inner + write(v === undefined ? null : v, inner)).join(',\n')}\n${indent}]`;
  }
  const obj = value as Record<string, unknown>;
  const order = keyOrder.get(obj);
  const keys = order ? [...new Set([...order.filter((k) => Object.hasOwn(obj, k)), ...Object.keys(obj)])] : Object.keys(obj);
  const parts = keys.filter((k) => obj[k] !== undefined).map((k) => `${inner}${JSON.stringify(k)}: ${write(obj[k], inner)}`);
  return parts.length === 0 ? '{}' : `{\n${parts.join(',\n')}\n${indent}}`;
}
