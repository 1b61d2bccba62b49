/**
 * The run report (docs/cli.md#the-run-report---json) built from the event stream alone, so the JSON report, JUnit and
 * the human reporters all tell the same story. `report()` may be called at any time: before
 * `run_finished` (a crash or a second SIGINT) it reports the run as interrupted.
 */
import { endStateOf, laterEndState } from '../errors.js';
import { nextStepFor, type Plan } from '../compile/plan-types.js';
import type { HostEndState, HostResult, RunEvent, StepStatus } from '../run/events.js';
import type { ReportStep, RunReport } from './report-types.js';
import { shardLabel } from '../lang/shard.js';
import { countCheckHosts, type CheckCounts } from './outcomes.js';
import { inKeyOrder } from './ordered-json.js';

interface StepState {
  started: boolean;
  /** Worst status over the batches that ran the step. */
  status: StepStatus | undefined;
  /** Hosts the step really ran on (step_finished), over all batches, in order. */
  ran: OrderedSet;
  /**
   * Targets announced by a step_started whose step_finished has not come (a run cut short):
   * the best knowledge of who was targeted.
   */
  open: string[] | undefined;
  results: Map<string, HostResult>;
}

class OrderedSet {
  readonly items: string[] = [];
  private readonly seen = new Set<string>();
  add(h: string): void {
    if (this.seen.has(h)) return;
    this.seen.add(h);
    this.items.push(h);
  }
  has(h: string): boolean {
    return this.seen.has(h);
  }
}

function newStep(): StepState {
  return { started: false, status: undefined, ran: new OrderedSet(), open: undefined, results: new Map() };
}

/** Targets in order: where the step ran, then open announcements, then any host with a result. */
function targetsOf(s: StepState): string[] {
  const t = new OrderedSet();
  for (const h of s.ran.items) t.add(h);
  for (const h of s.open ?? []) t.add(h);
  for (const h of s.results.keys()) t.add(h);
  return t.items;
}

const STATUS_RANK: Record<StepStatus, number> = { not_run: 0, ok: 1, failed: 2, aborted: 3 };

export class ReportBuilder {
  private plan: Plan | undefined;
  private check = false;
  private startedAt: string | undefined;
  private startedMs = Date.now();
  private steps: StepState[] = [];
  private decided = new Map<string, Set<string>>();
  private finished: Extract<RunEvent, { type: 'run_finished' }> | undefined;

  onEvent(ev: RunEvent): void {
    switch (ev.type) {
      case 'run_started': {
        this.plan = ev.plan;
        this.check = ev.check;
        this.startedAt = ev.started_at;
        const t = Date.parse(ev.started_at);
        if (!Number.isNaN(t)) this.startedMs = t;
        this.steps = ev.plan.steps.map(newStep);
        return;
      }
      case 'step_started': {
        const s = this.step(ev.step);
        s.started = true;
        s.open = [...ev.targets];
        return;
      }
      case 'host_result': {
        const s = this.step(ev.step);
        s.started = true;
        s.results.set(ev.host, ev.result);
        return;
      }
      case 'step_finished': {
        const s = this.step(ev.step);
        // Older executors may omit `targets`; the announced ones are then the best we have.
        for (const h of (ev.targets as string[] | undefined) ?? s.open ?? []) s.ran.add(h);
        s.open = undefined;
        if (s.status === undefined || STATUS_RANK[ev.status] > STATUS_RANK[s.status]) s.status = ev.status;
        return;
      }
      case 'group_decided': {
        let set = this.decided.get(ev.group);
        if (!set) this.decided.set(ev.group, (set = new Set()));
        for (const h of ev.hosts) set.add(h);
        return;
      }
      case 'run_finished':
        this.finished = ev;
        return;
      case 'batch_started':
      case 'host_started':
      case 'host_progress':
      case 'host_stderr':
      case 'warning':
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  /** Hosts that reported `changed: true` in any step (for summaries). */
  changedHosts(): Set<string> {
    const out = new Set<string>();
    for (const s of this.steps) for (const [h, r] of s.results) if (r.ok && r.changed) out.add(h);
    return out;
  }

  /** A check run's would-change / unknown host counts; undefined outside check mode. */
  checkCounts(): CheckCounts | undefined {
    return this.check ? countCheckHosts(this.steps.map((s) => ({ results: Object.fromEntries(s.results) }))) : undefined;
  }

  get currentPlan(): Plan | undefined {
    return this.plan;
  }

  report(): RunReport {
    const plan = this.plan;
    const hostOrder = plan ? plan.hosts.map((h) => h.name) : [];
    const endStates = this.finished?.hosts ?? this.guessEndStates(hostOrder);
    // Hosts that had work left when the run stopped (an abort, a signal, a serial batch that never
    // started): each step they may have run lists them as a target with no result, never reached.
    const cancelled = hostOrder.filter((h) => endStates[h] === 'cancelled');
    const rank = new Map(hostOrder.map((h, i) => [h, i]));
    const lastResult = new Map(cancelled.map((h) => [h, this.lastResult(h)]));
    const steps: ReportStep[] = (plan?.steps ?? []).map((ps, i) => {
      const s = this.steps[i]!;
      let targets = targetsOf(s);
      if (ps.phase !== 'finally' && cancelled.length) {
        const upper = new Set(ps.targets.upper);
        const listed = new Set(targets);
        const unreached = cancelled.filter((h) => i > lastResult.get(h)! && upper.has(h) && !listed.has(h));
        if (unreached.length) targets = [...targets, ...unreached].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
      }
      const results: Record<string, HostResult> = {};
      for (const h of targets) {
        const r = s.results.get(h);
        if (r !== undefined) results[h] = r;
      }
      // A step that started but never reported its end was cut short (abort or signal).
      const status: StepStatus = s.open !== undefined ? 'aborted' : (s.status ?? (s.started ? 'aborted' : 'not_run'));
      return {
        index: ps.index,
        name: ps.name,
        kind: ps.kind,
        status,
        targets,
        results: inKeyOrder(results, targets),
        ...(ps.phase ? { phase: ps.phase } : {}),
      };
    });

    const groups: Record<string, string[]> = {};
    // The shard's own group is the report's `shard` field, not a group of the playbook.
    const shardGroup = plan?.shard ? shardLabel(plan.shard) : undefined;
    for (const g of plan?.groups ?? []) {
      if (g.name === shardGroup) continue;
      if (g.source === 'static') groups[g.name] = [...g.hosts.lower];
      else {
        const d = this.decided.get(g.name);
        if (d) groups[g.name] = inOrder(d, hostOrder);
      }
    }
    for (const [name, d] of this.decided) if (!(name in groups)) groups[name] = inOrder(d, hostOrder);

    return {
      version: 1,
      playbook: plan?.playbook ?? '',
      playbook_sha256: plan?.playbook_sha256 ?? '',
      status: this.finished?.status ?? 'interrupted',
      check: this.check,
      started_at: this.startedAt ?? new Date(this.startedMs).toISOString(),
      duration_ms: this.finished?.duration_ms ?? Math.max(0, Date.now() - this.startedMs),
      ...(plan?.shard ? { shard: { index: plan.shard.index, count: plan.shard.count, host_order: hostOrder } } : {}),
      groups: inKeyOrder(groups, plan?.groups.map((g) => g.name) ?? []),
      steps,
      hosts: inKeyOrder(endStates, hostOrder),
    };
  }

  /**
   * Without run_finished (a second SIGINT, a crash): the last error of each host decides, as the
   * executor would, and a host that still had a step it may run ends `cancelled`, as after one SIGINT.
   */
  private guessEndStates(hostOrder: string[]): Record<string, HostEndState> {
    const out: Record<string, HostEndState> = {};
    const touched = new Set<string>();
    for (const s of this.steps) for (const h of targetsOf(s)) touched.add(h);
    for (const h of hostOrder) {
      if (!touched.has(h)) {
        // Not reached yet (its first step had not started): it had work left all the same.
        if (this.plan && nextStepFor(this.plan, h, -1) !== -1) out[h] = 'cancelled';
        continue;
      }
      let state: HostEndState = 'ok';
      for (const s of this.steps) {
        const r = s.results.get(h);
        if (r && !r.ok) state = laterEndState(state, endStateOf(r.error));
        else if (!r && (s.ran.has(h) || s.open?.includes(h))) state = 'cancelled';
      }
      if (state === 'ok' && this.plan && nextStepFor(this.plan, h, this.lastResult(h)) !== -1) state = 'cancelled';
      out[h] = state;
    }
    return out;
  }

  /** The last of the playbook's own steps (not `finally:`) with a result for `host`; -1 when none. */
  private lastResult(host: string): number {
    const steps = this.plan?.steps ?? [];
    for (let i = Math.min(steps.length, this.steps.length) - 1; i >= 0; i--) {
      if (steps[i]!.phase !== 'finally' && this.steps[i]!.results.has(host)) return i;
    }
    return -1;
  }

  private step(i: number): StepState {
    let s = this.steps[i];
    if (!s) {
      // An event for a step the plan did not announce: keep it rather than lose results.
      s = newStep();
      this.steps[i] = s;
    }
    return s;
  }
}

function inOrder(set: Set<string>, order: string[]): string[] {
  const known = order.filter((h) => set.has(h));
  const extra = [...set].filter((h) => !order.includes(h));
  return [...known, ...extra];
}

export function buildReport(events: Iterable<RunEvent>): RunReport {
  const b = new ReportBuilder();
  for (const ev of events) b.onEvent(ev);
  return b.report();
}
