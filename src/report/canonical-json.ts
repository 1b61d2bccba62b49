/**
 * Canonical JSON: object keys sorted, so two deep-equal values give the same text.
 * Used to fold identical host results (hosts may build objects in any key order).
 */
import type { Json } from '../model/playbook.js';

export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
}
