/**
 * What `chopsticks report` shows, computed once from a run report (docs/ci.md) and rendered by
 * markdown.ts and html.ts: per step the folded results, counts and durations; every failure
 * (identical ones folded, each message whole); for a check run, what would change where.
 */
import type { HostResult } from '../run/events.js';
import { foldHostNames } from '../lang/hostlist.js';
import { foldResults, isErrorLabel, labelOf, type FoldedResult, type FoldLabel } from './fold.js';
import type { ReportStep, RunReport } from './report-types.js';
import { diffOfValue } from './diff-text.js';

export type Counts = Record<FoldLabel | 'not_reached', number>;

export interface StepView {
  step: ReportStep;
  /** 1-based, as the terminal shows steps. */
  number: number;
  targetText: string;
  counts: Counts;
  folds: FoldedResult[];
  /** Over the hosts that returned a result. */
  duration: { min: number; median: number; max: number } | undefined;
  /** Check runs: hosts where the step would change something, with the diffs the results hold. */
  changes: ChangeView | undefined;
}

export interface ChangeView {
  /** A mutating step that check mode did not run. */
  wouldRun: string[];
  /** A step that reported it would change the host (`changed: true` in a check run). */
  wouldChange: string[];
  /** Identical diffs folded over their hosts. */
  diffs: Array<{ hosts: string[]; hostText: string; diff: string }>;
}

export interface FailureView {
  stepNumber: number;
  stepName: string;
  label: FoldLabel;
  hosts: string[];
  hostText: string;
  /** `kind: message` (`<host>` stands for each host when several share it). */
  detail: string;
  tb: string | null;
}

export interface ReportView {
  report: RunReport;
  hostOrder: string[];
  hostCounts: { hosts: number; ok: number; failed: number; unreachable: number; cancelled: number; changed: number };
  steps: StepView[];
  failures: FailureView[];
  /** The hosts that would change in a check run (any step), in host order. */
  changedHosts: string[];
}

export function buildView(report: RunReport): ReportView {
  const hostOrder = hostOrderOf(report);
  const changed = new Set<string>();
  const steps: StepView[] = report.steps.map((step) => {
    const entries = step.targets.flatMap((host) => (step.results[host] ? [{ host, result: step.results[host] }] : []));
    const counts: Counts = {
      ok: 0,
      changed: 0,
      would_change: 0,
      unknown: 0,
      skipped: 0,
      failed: 0,
      unreachable: 0,
      cancelled: 0,
      not_reached: 0,
    };
    for (const host of step.targets) {
      const r = step.results[host];
      if (!r) counts.not_reached++;
      else counts[labelOf(r)]++;
      if (r?.ok && (r.changed || r.outcome === 'would_change')) changed.add(host);
    }
    const ds = entries.map((e) => e.result.duration_ms).sort((a, b) => a - b);
    return {
      step,
      number: step.index + 1,
      targetText: step.targets.length ? foldHostNames(step.targets) : '(no hosts)',
      counts,
      folds: foldResults(entries, hostOrder, { errorsAlikeButHost: true }),
      duration: ds.length ? { min: ds[0]!, median: ds[Math.floor((ds.length - 1) / 2)]!, max: ds[ds.length - 1]! } : undefined,
      changes: report.check ? changesOf(entries) : undefined,
    };
  });
  const failures: FailureView[] = [];
  for (const s of steps) {
    for (const f of s.folds) {
      if (!isErrorLabel(f.label)) continue;
      const first = s.step.results[f.hosts[0]!] as Extract<HostResult, { ok: false }>;
      failures.push({
        stepNumber: s.number,
        stepName: s.step.name,
        label: f.label,
        hosts: f.hosts,
        hostText: f.hostText,
        detail: f.detail,
        tb: first.error.tb,
      });
    }
  }
  const c = { hosts: 0, ok: 0, failed: 0, unreachable: 0, cancelled: 0, changed: 0 };
  for (const h of Object.keys(report.hosts)) {
    c.hosts++;
    c[report.hosts[h]!]++;
  }
  const everChanged = new Set<string>();
  for (const s of report.steps) for (const [h, r] of Object.entries(s.results)) if (r.ok && r.changed) everChanged.add(h);
  c.changed = everChanged.size;
  return { report, hostOrder, hostCounts: c, steps, failures, changedHosts: hostOrder.filter((h) => changed.has(h)) };
}

function changesOf(entries: Array<{ host: string; result: HostResult }>): ChangeView | undefined {
  const wouldRun: string[] = [];
  const wouldChange: string[] = [];
  const diffs = new Map<string, string[]>();
  for (const { host, result: r } of entries) {
    if (!r.ok) continue;
    // A changing call check mode did not run is skipped too; `when` and check_mode: skip are not would_change.
    if (r.outcome !== 'would_change') continue;
    (r.skipped ? wouldRun : wouldChange).push(host);
    const diff = diffOfValue(r.value);
    if (diff !== undefined) {
      const list = diffs.get(diff);
      if (list) list.push(host);
      else diffs.set(diff, [host]);
    }
  }
  if (!wouldRun.length && !wouldChange.length) return undefined;
  return { wouldRun, wouldChange, diffs: [...diffs].map(([diff, hosts]) => ({ diff, hosts, hostText: foldHostNames(hosts) })) };
}

/** `value.diff` when it is text (put/template/sync/line/file with --diff). */

/**
 * Definition order as far as the report tells it: the end-state map, then every step's targets
 * and every group, for hosts the end states do not name.
 */
export function hostOrderOf(report: RunReport): string[] {
  const seen = new Set<string>(Object.keys(report.hosts));
  const out = [...seen];
  const add = (h: string) => {
    if (!seen.has(h)) {
      seen.add(h);
      out.push(h);
    }
  };
  for (const s of report.steps) s.targets.forEach(add);
  return out;
}

export const STATUS_WORD: Record<RunReport['status'], string> = {
  ok: 'ok',
  failed: 'failed',
  aborted: 'aborted',
  interrupted: 'interrupted',
};

/** A whole-number duration in words a CI log reader scans: 850 ms, 3.4 s, 2 min 05 s. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}
