/**
 * What a host's result is, in words every reporter shares (plain, listr, JUnit, summaries), so a
 * check run's `would_change` and `unknown` (docs/language.md#check-mode) read the same everywhere.
 */
import { endStateOf } from '../errors.js';
import type { HostResult } from '../run/events.js';

export type ResultLabel = 'ok' | 'changed' | 'would_change' | 'unknown' | 'skipped' | 'failed' | 'unreachable' | 'cancelled';

export function labelOf(r: HostResult): ResultLabel {
  if (r.outcome === 'would_change' || r.outcome === 'unknown' || r.outcome === 'skipped') return r.outcome;
  if (!r.ok) return endStateOf(r.error);
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}

/** Labels that are a host's error; `unknown` is not one (a check run cannot tell). */
export function isErrorLabel(l: ResultLabel): boolean {
  return l === 'failed' || l === 'unreachable' || l === 'cancelled';
}

/** Hosts of a check run with at least one `would_change` / `unknown` result, for the summary line. */
export interface CheckCounts {
  would_change: number;
  unknown: number;
}

export function countCheckHosts(steps: Iterable<{ results: Record<string, HostResult> }>): CheckCounts {
  const would = new Set<string>();
  const unknown = new Set<string>();
  for (const s of steps) {
    for (const [h, r] of Object.entries(s.results)) {
      if (r.outcome === 'would_change') would.add(h);
      else if (r.outcome === 'unknown') unknown.add(h);
    }
  }
  return { would_change: would.size, unknown: unknown.size };
}

/** Why a host was skipped, from its `skip_reason` (a fold's detail): `when`, or check_mode: skip. */
export function skippedText(skipReason: string | undefined): string {
  return skipReason === 'when' ? 'when is false' : 'not run in check mode (check_mode: skip)';
}

/** One line for a JUnit test case or a log: what a check run found on this host. */
export function checkNote(r: HostResult): string | undefined {
  switch (r.outcome) {
    case 'would_change':
      return `would change: ${JSON.stringify(r.ok ? r.value : null)}`;
    case 'unknown':
      return r.ok ? 'unknown' : `unknown (may depend on a change not made in check mode): ${r.error.kind}: ${r.error.msg}`;
    case 'skipped':
      return skippedText(r.ok ? r.skip_reason : undefined);
    default:
      return undefined;
  }
}
