/**
 * `chopsticks report merge`: the reports of the N shards of one run (`--shard I/N`) become one
 * report, as if one controller had run every host (docs/ci.md). Pure: reports in, report or the
 * reasons it cannot be made out.
 */
import type { HostResult, RunStatus, StepStatus } from '../run/events.js';
import { inKeyOrder } from './ordered-json.js';
import type { ReportStep, RunReport } from './report-types.js';

export type MergeResult = { ok: true; report: RunReport } | { ok: false; problems: string[] };

const RUN_RANK: Record<RunStatus, number> = { ok: 0, failed: 1, aborted: 2, interrupted: 3 };
const STEP_RANK: Record<StepStatus, number> = { not_run: 0, ok: 1, failed: 2, aborted: 3 };

/** `inputs`: each report with the name it is known by (its file), for the messages. */
export function mergeShardReports(inputs: Array<{ name: string; report: RunReport }>): MergeResult {
  const problems: string[] = [];
  if (inputs.length === 0) return { ok: false, problems: ['no reports to merge'] };
  for (const { name, report } of inputs) {
    if (!report.shard) problems.push(`${name}: not a shard report (it has no "shard"; was it run with --shard I/N?)`);
  }
  if (problems.length) return { ok: false, problems };
  const first = inputs[0]!;
  const count = first.report.shard!.count;
  const byIndex = new Map<number, string>();
  for (const { name, report } of inputs) {
    const s = report.shard!;
    if (report.playbook_sha256 !== first.report.playbook_sha256) {
      problems.push(
        `${name}: playbook sha256 ${report.playbook_sha256.slice(0, 12)}… differs from ${first.name}'s ${first.report.playbook_sha256.slice(0, 12)}… (the shards ran different playbooks)`,
      );
    }
    if (s.count !== count) problems.push(`${name}: shard ${s.index}/${s.count}, but ${first.name} is one of ${count} shards`);
    if (report.check !== first.report.check)
      problems.push(
        `${name}: ${report.check ? 'a check run' : 'a real run'}, but ${first.name} is ${first.report.check ? 'a check run' : 'a real run'}`,
      );
    const seen = byIndex.get(s.index);
    if (seen !== undefined) problems.push(`${name}: shard ${s.index}/${s.count} was given twice (also ${seen})`);
    else byIndex.set(s.index, name);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length && !problems.length) {
    problems.push(
      `missing shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} (each of the ${count} shards must be given once)`,
    );
  }
  if (problems.length) return { ok: false, problems };

  const reports = [...inputs].sort((a, b) => a.report.shard!.index - b.report.shard!.index).map((i) => i.report);
  const order = definitionOrder(reports);
  const rank = new Map(order.map((h, i) => [h, i]));
  const sortHosts = (hs: Iterable<string>) => [...new Set(hs)].sort((a, b) => rank.get(a)! - rank.get(b)!);

  const stepCount = Math.max(...reports.map((r) => r.steps.length));
  const steps: ReportStep[] = [];
  for (let i = 0; i < stepCount; i++) {
    const parts = reports.map((r) => r.steps.find((s) => s.index === i)).filter((s): s is ReportStep => s !== undefined);
    const base = parts[0]!;
    const targets = sortHosts(parts.flatMap((p) => p.targets));
    const all = new Map<string, HostResult>();
    for (const p of parts) for (const [h, r] of Object.entries(p.results)) all.set(h, r);
    const results: Record<string, HostResult> = {};
    for (const h of targets) if (all.has(h)) results[h] = all.get(h)!;
    // A shard none of whose hosts the step targets reports it ok with no targets: that says nothing.
    const telling = parts.filter((p) => p.targets.length > 0 || p.status !== 'ok');
    const status = telling.reduce<StepStatus>(
      (w, p) => (STEP_RANK[p.status] > STEP_RANK[w] ? p.status : w),
      telling.length ? 'not_run' : base.status,
    );
    steps.push({ ...base, status, targets, results: inKeyOrder(results, targets) });
  }

  const groups: Record<string, string[]> = {};
  for (const r of reports) for (const [g, hs] of Object.entries(r.groups)) groups[g] = sortHosts([...(groups[g] ?? []), ...hs]);
  const hosts: RunReport['hosts'] = {};
  const endStates = new Map<string, RunReport['hosts'][string]>();
  for (const r of reports) for (const [h, s] of Object.entries(r.hosts)) endStates.set(h, s);
  for (const h of sortHosts(endStates.keys())) hosts[h] = endStates.get(h)!;

  const starts = reports.map((r) => Date.parse(r.started_at));
  const start = Math.min(...starts);
  const end = Math.max(...reports.map((r, i) => starts[i]! + r.duration_ms));
  const status = reports.reduce<RunStatus>((w, r) => (RUN_RANK[r.status] > RUN_RANK[w] ? r.status : w), 'ok');

  const report: RunReport = {
    version: 1,
    playbook: first.report.playbook,
    playbook_sha256: first.report.playbook_sha256,
    status,
    check: first.report.check,
    started_at: new Date(start).toISOString(),
    duration_ms: Math.max(0, end - start),
    merged_from: reports.map((r) => ({
      index: r.shard!.index,
      count: r.shard!.count,
      started_at: r.started_at,
      duration_ms: r.duration_ms,
      status: r.status,
    })),
    groups,
    steps,
    hosts: inKeyOrder(hosts, order),
  };
  return { ok: true, report };
}

/**
 * The hosts' definition order. A shard report written by this version holds it (shard.host_order);
 * otherwise it is rebuilt from what the shards saw. Each shard lists its own hosts
 * in definition order, and every static group lists all its members in that order, so each list
 * is a chain of "comes before" facts; a topological sort honours all of them. Where the reports
 * do not decide (two hosts of different shards in no common group), names compare naturally
 * (web2 before web10), which is how ranges like web[01-40] are defined.
 */
export function definitionOrder(reports: RunReport[]): string[] {
  const chains: string[][] = [];
  for (const r of reports) {
    // Parsed JSON lists index-like names ("3", "20") first: the keys of `hosts` are a chain only
    // when no host_order says better.
    chains.push(r.shard?.host_order ?? Object.keys(r.hosts));
    for (const s of r.steps) chains.push(s.targets);
    for (const hs of Object.values(r.groups)) chains.push(hs);
  }
  const nodes = new Set<string>(chains.flat());
  const next = new Map<string, Set<string>>();
  const indeg = new Map<string, number>();
  for (const n of nodes) {
    next.set(n, new Set());
    indeg.set(n, 0);
  }
  for (const c of chains) {
    for (let i = 1; i < c.length; i++) {
      const a = c[i - 1]!;
      const b = c[i]!;
      if (a === b || next.get(a)!.has(b)) continue;
      next.get(a)!.add(b);
      indeg.set(b, indeg.get(b)! + 1);
    }
  }
  const ready = [...nodes].filter((n) => indeg.get(n) === 0).sort(natural);
  const out: string[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    out.push(n);
    const freed: string[] = [];
    for (const m of next.get(n)!) {
      indeg.set(m, indeg.get(m)! - 1);
      if (indeg.get(m) === 0) freed.push(m);
    }
    if (freed.length) {
      ready.push(...freed);
      ready.sort(natural);
    }
  }
  // Lists that contradict each other (not written by one playbook) leave a cycle: keep those last.
  if (out.length < nodes.size) out.push(...[...nodes].filter((n) => !out.includes(n)).sort(natural));
  return out;
}

const collator = new Intl.Collator('en', { numeric: true });
function natural(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
