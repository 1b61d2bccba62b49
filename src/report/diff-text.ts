/**
 * `--diff` in human output: a step's diffs (value.diff, made by src/steps/diff.ts) printed under
 * each host, and values shown without them (the diff is printed whole, not in the value line).
 */
import type { HostResult } from '../run/events.js';

/** The diff a result carries, if any. */
export function diffOf(r: HostResult): string | undefined {
  if (!r.ok || r.value === null || typeof r.value !== 'object' || Array.isArray(r.value)) return undefined;
  const d = (r.value as Record<string, unknown>).diff;
  return typeof d === 'string' && d !== '' ? d : undefined;
}

/** The result as shown in a folded line: its value without the diff. */
export function withoutDiff(r: HostResult): HostResult {
  if (diffOf(r) === undefined || !r.ok) return r;
  const { diff: _diff, ...rest } = r.value as Record<string, never>;
  return { ...r, value: rest };
}

/** `  web1: diff` then the diff indented, for each host (in the order given) that has one. */
export function diffLines(entries: ReadonlyArray<{ host: string; result: HostResult }>, indent = '  '): string[] {
  const out: string[] = [];
  for (const { host, result } of entries) {
    const d = diffOf(result);
    if (d === undefined) continue;
    out.push(`${indent}${host}: diff`);
    for (const line of d.replace(/\n$/, '').split('\n')) out.push(`${indent}  ${line}`);
  }
  return out;
}
