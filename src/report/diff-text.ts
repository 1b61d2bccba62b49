/**
 * `--diff` in human output: a step's diffs (value.diff, made by src/steps/diff.ts) printed under
 * each host, and values shown without them (the diff is printed whole, not in the value line).
 */
import type { Json } from '../model/playbook.js';
import type { HostResult } from '../run/events.js';

const isRecord = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The diff a step's value carries, if any; a `loop:` step's value is the list of its items' values, each maybe with one. */
export function diffOfValue(value: Json): string | undefined {
  if (Array.isArray(value)) {
    const all = value.map(diffOfValue).filter((d) => d !== undefined);
    return all.length ? all.join('') : undefined;
  }
  const d = isRecord(value) ? value.diff : undefined;
  return typeof d === 'string' && d !== '' ? d : undefined;
}

/** The diff a result carries, if any. */
export function diffOf(r: HostResult): string | undefined {
  return r.ok ? diffOfValue(r.value) : undefined;
}

/** `value` with each diff (a loop's items' too) left out, or replaced by `note` (where the diff is shown instead). */
export function replaceDiff(value: Json, note?: string): Json {
  if (Array.isArray(value)) return value.map((v) => replaceDiff(v, note));
  if (!isRecord(value) || value.diff === undefined) return value;
  const { diff: _diff, ...rest } = value;
  return note === undefined ? rest : { ...rest, diff: note };
}

/** The result as shown in a folded line: its value without the diff. */
export function withoutDiff(r: HostResult): HostResult {
  if (diffOf(r) === undefined || !r.ok) return r;
  return { ...r, value: replaceDiff(r.value) };
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
