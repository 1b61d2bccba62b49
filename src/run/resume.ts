/**
 * `--resume REPORT` (docs/cli.md#resuming-a-run): from an earlier run's report, which hosts to run again and from
 * which step, plus what they had registered before that step (for outcome sets and templates).
 * Pure: the CLI reads and schema-checks the report file.
 */
import { nextStepFor, type Plan } from '../compile/plan-types.js';
import type { HostEndState, HostResult, StepStatus } from './events.js';
import { namesIn } from '../lang/groups.js';
import { isUnreachable } from '../errors.js';
import { keepsHost } from './policy.js';

/**
 * What a resume reads of an earlier run's report: the run report (report/report-types.ts,
 * schema/report.schema.json) has this shape, so the CLI passes it as it is.
 */
export interface ResumeReport {
  check: boolean;
  playbook_sha256: string;
  steps: ReadonlyArray<{ index: number; status: StepStatus; results: Readonly<Record<string, HostResult>> }>;
  hosts: Readonly<Record<string, HostEndState>>;
  shard?: { index: number; count: number };
}

export interface ResumePoint {
  /** Index of the first step to run for this host. */
  from: number;
}

export interface ResumeSeed {
  /** Host → step index to start from. Hosts not here do not run. */
  from: Map<string, number>;
  /** Results of steps before each host's start, to seed registers: [register, host, result]. */
  registered: Array<{ register: string; host: string; result: HostResult }>;
  /** Groups made by filters before each host's start: group → hosts. */
  decided: Array<{ group: string; host: string }>;
}

export type ResumeCheck = { ok: true; seed: ResumeSeed } | { ok: false; message: string };

/**
 * A host is resumed when its end state was failed, unreachable or cancelled; it starts where it
 * stopped (restartStep), or at an earlier filter whose group a step from there on reads
 * (rewindToFilters). A check run's report is refused.
 */
export function computeResume(plan: Plan, report: ResumeReport): ResumeCheck {
  if (report.check) {
    return {
      ok: false,
      message:
        'that is the report of a --check run: it changed nothing, so there is nothing to resume; run the playbook (without --check), or resume from the report of a real run',
    };
  }
  if (report.playbook_sha256 !== plan.playbook_sha256) {
    return {
      ok: false,
      message: `the playbook changed since that run (report sha256 ${report.playbook_sha256.slice(0, 12)}…, now ${plan.playbook_sha256.slice(0, 12)}…); resume only works on the same playbook: run it in full instead`,
    };
  }
  const [was, now] = [report.shard, plan.shard];
  if (was && now && (was.index !== now.index || was.count !== now.count)) {
    // A shard's failed hosts are not in another shard: that resume would run nothing and pass.
    return {
      ok: false,
      message: `that is the report of --shard ${was.index}/${was.count}, but this run is --shard ${now.index}/${now.count}; resume each shard with its own report and the same --shard`,
    };
  }
  if (report.steps.length !== plan.steps.length) {
    return { ok: false, message: `the report has ${report.steps.length} steps but the playbook has ${plan.steps.length}` };
  }
  const seed: ResumeSeed = { from: new Map(), registered: [], decided: [] };
  for (const [host, state] of Object.entries(report.hosts)) {
    if (state === 'ok') continue;
    seed.from.set(host, rewindToFilters(plan, restartStep(plan, report, host)));
  }
  for (const [host, from] of seed.from) {
    for (const s of report.steps.slice(0, from)) {
      const step = plan.steps[s.index]!;
      const r = s.results[host];
      if (!r) continue;
      if (step.register) seed.registered.push({ register: step.register, host, result: r });
      if (step.group && r.ok && r.value === step.group.member) seed.decided.push({ group: step.group.name, host });
    }
  }
  return { ok: true, seed };
}

/**
 * Where a host stopped, among the playbook's steps (`finally:` steps run after any start):
 * - the first step whose error dropped it from the run (a failure under `continue` or `abort`),
 *   left it unreached, or was an interrupted operation; steps after that one that still
 *   targeted it (`on: failed(deploy)`, a clean-up for failed hosts) are not where it stopped;
 * - else the first later step that may target it: an abort, an interrupt or a `serial` batch
 *   that never started left it there (a host in another batch may have run that step, so the
 *   step's own status says nothing about this host);
 * - else (every step it had has a result) its first error, which `ignore` let it run past.
 */
function restartStep(plan: Plan, report: ResumeReport, host: string): number {
  let last = -1;
  for (const [i, s] of plan.steps.entries()) {
    if (s.phase === 'finally') continue;
    const r = report.steps[i]!.results[host];
    if (!r) continue;
    last = i;
    if (!r.ok && (!keepsHost(s.policy, r) || r.error.kind === 'cancelled' || isUnreachable(r.error))) return i;
  }
  const next = nextStepFor(plan, host, last);
  if (next !== -1) return next;
  const firstError = report.steps.findIndex((s) => s.results[host]?.ok === false);
  return firstError === -1 ? 0 : firstError;
}

/**
 * The plan restricted to a resume: each step's targets keep only the hosts resumed at or before
 * it, so `plan --resume` shows exactly what the run will touch.
 */
export function planForResume(plan: Plan, reportPath: string, from: ReadonlyMap<string, number>): Plan {
  const keep = (step: number) => (h: string) => (from.get(h) ?? Infinity) <= step;
  return {
    ...plan,
    resume: {
      report: reportPath,
      from: Object.fromEntries(plan.hosts.filter((h) => from.has(h.name)).map((h) => [h.name, from.get(h.name)!])),
    },
    steps: plan.steps.map((s) => ({
      ...s,
      targets: { lower: s.targets.lower.filter(keep(s.index)), upper: s.targets.upper.filter(keep(s.index)) },
    })),
  };
}

/**
 * A host restarts no later than any filter whose group its remaining steps read in `on`: the
 * filter decides again on today's host instead of replaying the earlier run's decision (a host
 * fixed since would otherwise stay out of `healthy` for good). Repeated until nothing moves, as
 * an earlier start brings in more steps and the groups they read.
 */
export function rewindToFilters(plan: Plan, from: number): number {
  const madeBy = new Map<string, number>();
  for (const s of plan.steps) if (s.group) madeBy.set(s.group.name, s.index);
  let start = from;
  for (let moved = true; moved;) {
    moved = false;
    for (const s of plan.steps.slice(start)) {
      for (const { name } of namesIn(s.on)) {
        const filter = madeBy.get(name);
        if (filter !== undefined && filter < start) {
          start = filter;
          moved = true;
        }
      }
    }
  }
  return start;
}
