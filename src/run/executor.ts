/**
 * The executor: runs a compiled plan in serial batches with the linear or free strategy, applies
 * each step's failure policy, and reports everything as RunEvents. Hosts are reached only through
 * the `openSession` function it is given, so the same executor runs against local, ssh and docker.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Plan, PlanStep } from '../compile/plan-types.js';
import type { HostSpec } from '../model/playbook.js';
import { isUnreachable, type ErrorResult } from '../errors.js';
import type { HostSession } from '../transports/session.js';
import { withPrivateTempDir } from '../transports/local-temp.js';
import type { Callable } from '../callables/types.js';
import { evalGroupExpr, outcomesIn, type SetEnv } from '../lang/groups.js';
import type { HostEndState, HostResult, RunEvent, RunStatus, StepStatus } from './events.js';
import { kindOf } from '../steps/index.js';
import { computeBatches } from './batches.js';
import { abortsRun, isFailure, keepsHost } from './policy.js';
import { RunState } from './run-state.js';
import { runHostStep } from './host-step.js';
import type { ResumeSeed } from './resume.js';

export interface ExecuteOptions {
  plan: Plan;
  check: boolean;
  /** `--diff`: file-writing steps report a unified diff of what they change. */
  diff?: boolean;
  /** At most this many hosts working at once, over the whole run. */
  concurrency?: number;
  /** Byte limit of a call's value (`max_result`, docs/language.md#steps). */
  maxResult?: number;
  emit(ev: RunEvent): void;
  /** Aborted on SIGINT/SIGTERM: no new work starts, work in flight is stopped. */
  signal: AbortSignal;
  openSession(host: HostSpec, signal: AbortSignal): Promise<HostSession>;
  resolveCallable(name: string): Promise<Callable>;
  /** `--resume`: only these hosts run, each from its step, with what it registered before. */
  resume?: ResumeSeed;
  /** Secret values, read when the run started (docs/language.md#secrets). */
  secrets?: Record<string, string>;
}

export interface ExecuteResult {
  status: RunStatus;
  hosts: Record<string, HostEndState>;
}

export const DEFAULT_MAX_RESULT = 1024 * 1024;

export async function execute(opts: ExecuteOptions): Promise<ExecuteResult> {
  const started = performance.now();
  return new Executor(opts).run().then((r) => {
    opts.emit({ type: 'run_finished', status: r.status, duration_ms: Math.round(performance.now() - started), hosts: r.hosts });
    return r;
  });
}

class Executor {
  private readonly plan: Plan;
  private readonly allHosts: string[];
  private readonly specs: Map<string, HostSpec>;
  private readonly state: RunState;
  private readonly sessions = new Map<string, Promise<HostSession>>();
  /** Closes of sessions that died and were replaced: the run ends after them. */
  private readonly retired: Array<Promise<void>> = [];
  /** Aborted once every step is done: a connect no step waits for any more (a step's timeout gave up on it) stops. */
  private readonly closing = new AbortController();
  private readonly hostLimit: LimitFunction;
  private aborted = false;
  /** Hosts that had steps left when the run stopped early. */
  private readonly pending = new Set<string>();
  /** `steps:` (the main phase); `finally:` steps run after them (docs/language.md#finally). */
  private readonly mainSteps: PlanStep[];
  private readonly finallySteps: PlanStep[];
  /** Results of `run_once` steps in the free strategy: the first host to reach one runs it. */
  private readonly onceRuns = new Map<number, { host: string; result: Promise<HostResult> }>();

  constructor(private readonly opts: ExecuteOptions) {
    this.plan = opts.plan;
    this.allHosts = opts.plan.hosts.map((h) => h.name);
    this.specs = new Map(opts.plan.hosts.map((h) => [h.name, h]));
    this.state = new RunState(this.allHosts);
    for (const r of opts.resume?.registered ?? []) this.state.record(r.register, r.host, r.result);
    for (const d of opts.resume?.decided ?? []) this.state.decide(d.group, d.host);
    this.hostLimit = pLimit(Math.max(1, opts.concurrency ?? 1_000_000));
    this.mainSteps = opts.plan.steps.filter((s) => s.phase !== 'finally');
    this.finallySteps = opts.plan.steps.filter((s) => s.phase === 'finally');
  }

  async run(): Promise<ExecuteResult> {
    try {
      const targeted = this.targetedHosts();
      const batches = computeBatches(targeted, this.plan.serial);
      for (const [i, batch] of batches.entries()) {
        if (this.stopped()) {
          // A batch that never starts: its hosts are cancelled, its steps are reported as not run.
          for (const step of this.mainSteps) this.notRun(step, batch);
          continue;
        }
        this.opts.emit({ type: 'batch_started', batch: i, hosts: batch });
        if (this.plan.strategy === 'free') await this.runFree(batch);
        else await this.runLinear(batch);
      }
      if (batches.length === 0) for (const step of this.mainSteps) this.notRun(step, []);
      await this.runFinally();
    } finally {
      await this.closeSessions();
    }
    for (const h of this.pending) {
      if ((this.state.endState.get(h) ?? 'ok') === 'ok') this.state.endState.set(h, 'cancelled');
    }
    const hosts: Record<string, HostEndState> = {};
    for (const h of this.allHosts) {
      const s = this.state.endState.get(h);
      if (s) hosts[h] = s;
    }
    const status: RunStatus = this.opts.signal.aborted
      ? 'interrupted'
      : this.aborted
        ? 'aborted'
        : Object.values(hosts).some((s) => s !== 'ok')
          ? 'failed'
          : 'ok';
    return { status, hosts };
  }

  private stopped(): boolean {
    return this.aborted || this.opts.signal.aborted;
  }

  /** Hosts some step may target: the union of every step's upper bound, in definition order. */
  private targetedHosts(): string[] {
    const s = new Set<string>();
    for (const step of this.mainSteps) for (const h of step.targets.upper) s.add(h);
    return this.allHosts.filter((h) => s.has(h));
  }

  private setEnv(): SetEnv {
    const groups = new Map(this.plan.groups.map((g) => [g.name, g]));
    return {
      all: this.allHosts,
      resolve: (name) => {
        const g = groups.get(name);
        if (g) return g.source === 'static' ? g.hosts.lower : this.state.groupHosts(name);
        return this.specs.has(name) ? [name] : undefined;
      },
      outcome: (o, r) => this.state.outcome(o, r),
    };
  }

  /**
   * Hosts a step may run on: its `on` set, within the batch, less hosts dropped by an earlier
   * failure. A step whose `on` names failed(R) or unreachable(R) asks for those hosts explicitly
   * (to collect their logs, say), so a dropped host stays eligible when it is in one of those
   * sets; a host dropped for another step's failure does not come back through `| all`.
   */
  private eligible(step: PlanStep, batch: readonly string[]): Set<string> {
    const asked = new Set<string>();
    for (const o of outcomesIn(step.on)) {
      if (o.outcome === 'failed' || o.outcome === 'unreachable') for (const h of this.state.outcome(o.outcome, o.register)) asked.add(h);
    }
    const from = this.opts.resume?.from;
    return new Set(batch.filter((h) => (!this.state.dropped.has(h) || asked.has(h)) && (!from || (from.get(h) ?? Infinity) <= step.index)));
  }

  private targetsOf(step: PlanStep, batch: readonly string[]): string[] {
    const eligible = this.eligible(step, batch);
    return evalGroupExpr(step.on, this.setEnv()).filter((h) => eligible.has(h));
  }

  // ---- linear: every target finishes step N before step N+1 starts ----

  private async runLinear(batch: string[]): Promise<void> {
    for (const step of this.mainSteps) {
      if (this.stopped()) {
        this.notRun(step, batch);
        continue;
      }
      await this.runStepOn(step, this.targetsOf(step, batch));
    }
  }

  private async runStepOn(step: PlanStep, all: string[]): Promise<void> {
    // run_once: the first target (definition order) runs it; the others get its result registered.
    const targets = step.run_once ? all.slice(0, 1) : all;
    this.opts.emit({ type: 'step_started', step: step.index, name: step.name, targets });
    const stepLimit = step.policy.concurrency ? pLimit(step.policy.concurrency) : undefined;
    const results = new Map<string, HostResult>();
    await Promise.all(
      targets.map((host) => {
        const task = () => this.hostLimit(() => this.runOne(step, host));
        return (stepLimit ? stepLimit(task) : task()).then((r) => results.set(host, r));
      }),
    );
    const once = step.run_once && targets[0] !== undefined ? results.get(targets[0]) : undefined;
    this.finishStep(step, targets, results);
    if (once) for (const h of all.slice(1)) this.followOnce(step, h, targets[0]!, once);
  }

  /**
   * `finally:` after every batch, even when a policy aborted the run (never after an interrupt):
   * on the hosts any step ran on, dropped hosts included, each step's `on` still applying.
   */
  private async runFinally(): Promise<void> {
    if (this.finallySteps.length === 0) return;
    // A resumed host whose earlier run failed only in `finally` runs no main step now, yet it is
    // one some step ran on; each finally step still waits for the host's resume point.
    const from = this.opts.resume?.from;
    const resumedBy = (h: string, step: PlanStep) => !from || (from.get(h) ?? Infinity) <= step.index;
    const touched = this.allHosts.filter((h) => this.state.endState.has(h) || from?.has(h));
    let stop = false;
    for (const step of this.finallySteps) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- runStepOn may set this.aborted; TS keeps it narrowed to the `false` assigned below
      if (stop || this.opts.signal.aborted) {
        this.notRun(step, []);
        continue;
      }
      const inSet = new Set(evalGroupExpr(step.on, this.setEnv()));
      const before = this.aborted;
      this.aborted = false;
      await this.runStepOn(
        step,
        touched.filter((h) => inSet.has(h) && resumedBy(h, step)),
      );
      stop = this.aborted;
      this.aborted ||= before;
    }
  }

  // ---- free: each host goes through the steps as fast as it can (Chopsticks' Queue) ----

  private async runFree(batch: string[]): Promise<void> {
    const perStep = this.mainSteps.map((step) => ({
      step,
      started: false,
      targets: new Set<string>(),
      results: new Map<string, HostResult>(),
      remaining: batch.length,
      limit: step.policy.concurrency ? pLimit(step.policy.concurrency) : undefined,
    }));
    const finishIfDone = (i: number) => {
      const s = perStep[i]!;
      if (s.remaining > 0) return;
      if (!s.started) {
        if (this.stopped()) this.notRun(s.step, []);
        else {
          this.opts.emit({ type: 'step_started', step: s.step.index, name: s.step.name, targets: [] });
          this.opts.emit({ type: 'step_finished', step: s.step.index, status: 'ok', targets: [] });
        }
        return;
      }
      const targets = batch.filter((h) => s.targets.has(h));
      this.finishStep(s.step, targets, s.results);
    };
    const hostPipeline = async (host: string) => {
      for (const [i, s] of perStep.entries()) {
        const step = s.step;
        if (!this.stopped()) {
          const inSet = this.targetsOf(step, [host]).includes(host);
          if (inSet) {
            if (!s.started) {
              s.started = true;
              // Targets are decided host by host in this strategy; the upper bound is what is known now.
              const upper = batch.filter((h) => step.targets.upper.includes(h));
              this.opts.emit({ type: 'step_started', step: step.index, name: step.name, targets: upper });
            }
            const task = () => this.runOne(step, host);
            const first = step.run_once ? this.onceRuns.get(step.index) : undefined;
            if (first) {
              // run_once in the free strategy: the first host to reach the step ran it.
              this.followOnce(step, host, first.host, await first.result);
              s.remaining--;
              finishIfDone(i);
              continue;
            }
            s.targets.add(host);
            const running = s.limit ? s.limit(task) : task();
            if (step.run_once) this.onceRuns.set(step.index, { host, result: running });
            const r = await running;
            s.results.set(host, r);
            this.applyHostPolicy(step, host, r);
            const failures = [...s.results.values()].filter(isFailure).length;
            if (isFailure(r) && abortsRun(step.policy, failures, step.targets.upper.length)) this.aborted = true;
          }
        } else if (step.targets.upper.includes(host)) {
          this.pending.add(host);
        }
        s.remaining--;
        finishIfDone(i);
      }
    };
    await Promise.all(batch.map((h) => this.hostLimit(() => hostPipeline(h))));
  }

  // ---- shared ----

  private async runOne(step: PlanStep, host: string): Promise<HostResult> {
    const spec = this.specs.get(host)!;
    this.state.touchHost(host);
    // A command stopped by the step's timeout may still write (the shell's "Terminated") after
    // the result is out: that belongs to no step a reader would look under.
    let settled = false;
    let result = await runHostStep(step, {
      host,
      hostVars: spec.vars,
      vars: step.vars ? { ...this.plan.vars, ...step.vars } : this.plan.vars,
      baseDir: this.plan.baseDir,
      check: this.opts.check,
      diff: this.opts.diff ?? false,
      ...(this.opts.secrets ? { secrets: this.opts.secrets } : {}),
      maxResult: step.policy.max_result ?? this.opts.maxResult ?? DEFAULT_MAX_RESULT,
      results: this.state.resultsFor(host),
      runSignal: this.opts.signal,
      session: () => this.session(spec),
      callable: (name) => this.opts.resolveCallable(name),
      privateTempDir: withPrivateTempDir,
      onStderr: (text) => {
        if (!settled) this.opts.emit({ type: 'host_stderr', step: step.index, host, text });
      },
      onProgress: throttledProgress((bytes, total) => this.opts.emit({ type: 'host_progress', step: step.index, host, bytes, total })),
      onAttempt: (attempt) => this.opts.emit({ type: 'host_started', step: step.index, host, attempt }),
    });
    settled = true;
    if (result.outcome === 'would_change') this.state.wouldChange.add(host);
    else if (
      result.outcome === 'failed' &&
      this.state.wouldChange.has(host) &&
      !result.ok &&
      mayDependOnChange(result.error) &&
      (await this.readsOnlyInCheck(step))
    ) {
      result = { ...result, outcome: 'unknown' };
    }
    this.state.record(step.register, host, result);
    if (step.group) {
      this.state.touchGroup(step.group.name);
      if (result.ok && result.value === step.group.member) this.state.decide(step.group.name, host);
    }
    this.opts.emit({ type: 'host_result', step: step.index, host, result });
    return result;
  }

  /**
   * Whether the step, as check mode runs it, only read the host: a read-only step, one the author
   * vouches for (check_mode: run), or a call whose callable has a check (file, line: what it
   * would change, read without changing anything). Its failure after a change not made may
   * come from that change.
   */
  private async readsOnlyInCheck(step: PlanStep): Promise<boolean> {
    if (step.policy.check_mode === 'run' || kindOf(step.kind).readOnly(step)) return true;
    if (step.kind !== 'call') return false;
    try {
      return (await this.opts.resolveCallable(step.callable)).check !== undefined;
    } catch {
      return false;
    }
  }

  private applyHostPolicy(step: PlanStep, host: string, r: HostResult): void {
    if (keepsHost(step.policy, r)) {
      // `ignore` keeps the host, but a host that could not be reached is not `ok` (Ansible's
      // ignore_errors does not cover unreachable hosts either): docs/decisions.md#running.
      if (!r.ok && isUnreachable(r.error)) this.state.markFailed(host, r);
      return;
    }
    this.state.markFailed(host, r);
    this.state.dropped.add(host);
  }

  /**
   * A target of a run_once step that another host ran for it: the result is registered for it,
   * and a failure fails it too, as Ansible's run_once does. The step did its work for every
   * target (a migration, a release tag), so the others must not go on as if it had worked. A
   * first host that could not be reached says nothing about the others; they go on.
   */
  private followOnce(step: PlanStep, host: string, ranOn: string, r: HostResult): void {
    this.state.record(step.register, host, r);
    if (r.ok || !isFailure(r) || isUnreachable(r.error) || keepsHost(step.policy, r)) return;
    this.applyHostPolicy(step, host, r);
    this.opts.emit({ type: 'warning', host, message: `dropped: run_once step "${step.name}" failed on ${ranOn}` });
  }

  private finishStep(step: PlanStep, targets: string[], results: Map<string, HostResult>): void {
    let failures = 0;
    for (const h of targets) {
      const r = results.get(h)!;
      if (isFailure(r)) failures++;
      if (this.plan.strategy !== 'free') this.applyHostPolicy(step, h, r);
    }
    if (step.group) {
      this.state.touchGroup(step.group.name);
      this.opts.emit({ type: 'group_decided', group: step.group.name, hosts: this.state.groupHosts(step.group.name) });
    }
    const policyAbort = abortsRun(step.policy, failures, targets.length);
    if (policyAbort) this.aborted = true;
    let status: StepStatus = failures > 0 ? 'failed' : 'ok';
    if (policyAbort || this.opts.signal.aborted) status = 'aborted';
    const bySignal = !policyAbort && this.opts.signal.aborted;
    this.opts.emit({ type: 'step_finished', step: step.index, status, targets, ...(bySignal ? { stopped_by: 'signal' as const } : {}) });
  }

  private notRun(step: PlanStep, batch: readonly string[]): void {
    for (const h of step.targets.upper) if (batch.includes(h)) this.pending.add(h);
    this.opts.emit({ type: 'step_finished', step: step.index, status: 'not_run', targets: [] });
  }

  private session(spec: HostSpec, reopen = true): Promise<HostSession> {
    let s = this.sessions.get(spec.name);
    if (!s) {
      s = this.opts.openSession(spec, AbortSignal.any([this.opts.signal, this.closing.signal]));
      // A host that could not be reached is tried again by the next step that targets it.
      s.catch(() => this.sessions.delete(spec.name));
      this.sessions.set(spec.name, s);
    }
    const opened = s;
    return opened.then((session) => {
      if (!session.lost || !reopen) return session;
      // So is one whose session died under an earlier operation (a container restarted, a
      // connection cut): a retry, a later step or `finally` opens a new one.
      if (this.sessions.get(spec.name) === opened) {
        this.sessions.delete(spec.name);
        this.retired.push(session.close().catch(() => {}));
      }
      // Once per operation: a host whose every new session dies fails it, as before.
      return this.session(spec, false);
    });
  }

  private async closeSessions(): Promise<void> {
    this.closing.abort();
    await Promise.all(this.retired);
    await Promise.all(
      [...this.sessions.values()].map(async (p) => {
        try {
          await (await p).close();
        } catch {
          /* a session that failed to open or close has nothing left to clean */
        }
      }),
    );
  }
}

/** A read-only step's error that a change not made in check mode may explain (not a lost host). */
function mayDependOnChange(e: ErrorResult): boolean {
  return e.kind !== 'cancelled' && !isUnreachable(e);
}

/**
 * Transfers report every chunk (32 KiB over ssh); every event goes through masking, the report
 * builder and each reporter, so 640 MiB would make 20,000 of them. Ten a second per host-step is
 * more than any view shows; the last one (all bytes) always passes.
 */
const PROGRESS_EVERY_MS = 100;
function throttledProgress(report: (bytes: number, total: number | null) => void): (bytes: number, total: number | null) => void {
  let last = 0;
  return (bytes, total) => {
    const now = performance.now();
    if (now - last < PROGRESS_EVERY_MS && bytes !== total) return;
    last = now;
    report(bytes, total);
  };
}
