/**
 * One step on one host: template rendering, the operation itself, JSON checks on the value,
 * retries and the per-host timeout. Everything that goes wrong becomes a HostResult, never a throw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HostError, type ErrorResult } from '../errors.js';
import { formatDuration } from '../lang/durations.js';
import type { PlanStep } from '../compile/plan-types.js';
import { kindOf } from '../steps/index.js';
import type { PerformContext, StepOutcome } from '../steps/types.js';
import type { HostResult } from './events.js';
import { retryAfter } from './policy.js';
import { evalRule, truthy } from '../lang/rules.js';
import { renderTemplate } from '../lang/templates.js';
import type { Json } from '../model/playbook.js';

export interface HostStepContext extends PerformContext {
  /** The run's signal: aborted on SIGINT/SIGTERM. */
  runSignal: AbortSignal;
  onAttempt(attempt: number): void;
}

export async function runHostStep(step: PlanStep, ctx: HostStepContext): Promise<HostResult> {
  if (!ctx.check) return runAttempts(step, ctx);
  // Check mode (docs/language.md#check-mode): `check_mode` on the step overrides the callable's flag.
  if (step.policy.check_mode === 'skip')
    return { ok: true, value: null, changed: false, duration_ms: 0, skipped: true, outcome: 'skipped' };
  const vouched = step.policy.check_mode === 'run';
  const r = await runAttempts(step, vouched ? { ...ctx, check: false } : ctx);
  if (!r.ok) return { ...r, outcome: 'failed' };
  if (r.skip_reason === 'when') return { ...r, outcome: 'skipped' };
  // Run as in a real run, as its author asked: it ran, so it is `ok`, with its own `changed`.
  if (vouched) return { ...r, outcome: 'ok' };
  // A changing step that did not run would have changed the host: it counts in changed(R), and
  // says it was skipped (not run), as the report's `skipped` field promises.
  if (r.skipped) return { ok: true, value: r.value, changed: true, duration_ms: r.duration_ms, skipped: true, outcome: 'would_change' };
  return { ...r, outcome: r.changed ? 'would_change' : 'ok' };
}

async function runAttempts(step: PlanStep, ctx: HostStepContext): Promise<HostResult> {
  const started = performance.now();
  const { retries, retry_delay_ms } = step.policy;
  let error: ErrorResult = { kind: 'failed', msg: `${ctx.host}: step did not run`, tb: null };
  // `when` without a loop is decided once, before any attempt (a loop decides it per item).
  if (step.when !== undefined && step.loop === undefined) {
    try {
      if (!whenHolds(step, ctx, undefined))
        return { ok: true, value: null, changed: false, duration_ms: since(started), skipped: true, skip_reason: 'when' };
    } catch (e) {
      return { ok: false, error: toErrorResult(e, ctx.host), duration_ms: since(started) };
    }
  }
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (ctx.runSignal.aborted) {
      error = cancelled(ctx.host);
      break;
    }
    ctx.onAttempt(attempt);
    try {
      const out = await withTimeout(step, ctx, (watched, signal) => performItems(step, watched, signal));
      return {
        ok: true,
        value: out.value,
        changed: out.changed,
        duration_ms: since(started),
        ...(out.skipped ? { skipped: true } : {}),
        ...(out.skip_reason ? { skip_reason: out.skip_reason } : {}),
      };
    } catch (e) {
      error = toErrorResult(e, ctx.host);
      if (!retryAfter(step.policy, error, attempt)) break;
      try {
        await sleep(retry_delay_ms, undefined, { signal: ctx.runSignal });
      } catch {
        error = cancelled(ctx.host);
        break;
      }
    }
  }
  return { ok: false, error, duration_ms: since(started) };
}

function whenHolds(step: PlanStep, ctx: PerformContext, item: Json | undefined): boolean {
  try {
    const v = evalRule(step.when!, {
      host: ctx.host,
      vars: ctx.vars,
      hostvars: ctx.hostVars,
      results: ctx.results,
      ...(item !== undefined ? { item } : {}),
    });
    return truthy(v);
  } catch (e) {
    throw new HostError('failed', `${ctx.host}: when: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The step's items: its `loop:` list, or the list a `"{vars.NAME}"` names. */
function loopItems(step: PlanStep, ctx: PerformContext): Json[] {
  const loop = step.loop!;
  if (Array.isArray(loop)) return loop;
  const r = renderTemplate(loop, { host: ctx.host, vars: ctx.vars, hostvars: ctx.hostVars, results: ctx.results });
  if (!r.ok) throw new HostError('failed', `${ctx.host}: loop: ${r.message}`);
  if (!Array.isArray(r.value)) throw new HostError('failed', `${ctx.host}: loop: ${loop} is not a list`);
  return r.value;
}

/**
 * The kind's perform, once, or once per item of `loop:` in order. A looped step's value is the
 * list of per-item values (null for an item whose `when` was false); it changed when any item did.
 */
async function performItems(step: PlanStep, ctx: PerformContext, signal: AbortSignal): Promise<StepOutcome> {
  const kind = kindOf(step.kind);
  if (step.loop === undefined) return kind.perform(step, ctx, signal);
  const values: Json[] = [];
  let changed = false;
  let ran = 0;
  let checkSkipped = false;
  for (const item of loopItems(step, ctx)) {
    if (signal.aborted) throw new HostError('cancelled', `${ctx.host}: cancelled: the run was interrupted`);
    if (step.when !== undefined && !whenHolds(step, ctx, item)) {
      values.push(null);
      continue;
    }
    ran++;
    const out = await kind.perform(step, { ...ctx, item }, signal);
    values.push(out.value);
    changed ||= out.changed;
    checkSkipped ||= out.skipped === true;
  }
  if (ran === 0 && step.when !== undefined && values.length > 0) return { value: null, changed: false, skipped: true, skip_reason: 'when' };
  return { value: values, changed, ...(checkSkipped ? { skipped: true } : {}) };
}

/**
 * One deadline per host-step: a single signal, aborted by the run's interrupt or the step's
 * timeout, whose reason is the HostError to report. The operation gets it and must honour it
 * (the session stops the remote command); we also stop waiting at once, so a stuck transport
 * cannot hold the run past its deadline. A timeout that fires while the operation waits for
 * the host's session is a host not reached (phase `connect`), not a step that failed.
 */
async function withTimeout(
  step: PlanStep,
  ctx: HostStepContext,
  op: (ctx: HostStepContext, signal: AbortSignal) => Promise<StepOutcome>,
): Promise<StepOutcome> {
  let connecting = false;
  const watched: HostStepContext = {
    ...ctx,
    session: () => {
      connecting = true;
      const s = ctx.session();
      s.then(
        () => (connecting = false),
        () => (connecting = false),
      );
      return s;
    },
  };
  const ac = new AbortController();
  const onRunAbort = () => ac.abort(new HostError('cancelled', `${ctx.host}: cancelled: the run was interrupted`));
  if (ctx.runSignal.aborted) onRunAbort();
  else ctx.runSignal.addEventListener('abort', onRunAbort, { once: true });
  const timeoutMs = step.policy.timeout_ms;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            ac.abort(
              connecting
                ? new HostError(
                    'timeout',
                    `${ctx.host}: '${step.name}' timed out after ${formatDuration(timeoutMs)} while connecting to the host; check that it is up, or raise the step's timeout`,
                    null,
                    'connect',
                  )
                : new HostError(
                    'timeout',
                    `${ctx.host}: '${step.name}' timed out after ${formatDuration(timeoutMs)}; raise the step's timeout or check the host`,
                  ),
            ),
          timeoutMs,
        );
  const stopped = new Promise<never>((_, reject) => {
    const stop = () => reject(ac.signal.reason as HostError);
    if (ac.signal.aborted) stop();
    else ac.signal.addEventListener('abort', stop, { once: true });
  });
  stopped.catch(() => {});
  const running = op(watched, ac.signal);
  running.catch(() => {}); // settled later by the race below or ignored after a stop
  try {
    return await Promise.race([running, stopped]);
  } catch (e) {
    // Whatever the operation threw once the deadline passed, the deadline is the reason.
    throw ac.signal.aborted && ac.signal.reason instanceof HostError ? ac.signal.reason : e;
  } finally {
    if (timer) clearTimeout(timer);
    ctx.runSignal.removeEventListener('abort', onRunAbort);
  }
}

export function toErrorResult(e: unknown, host: string): ErrorResult {
  if (e instanceof HostError) return e.toResult();
  if (e instanceof Error && e.name === 'AbortError') return cancelled(host);
  // Anything else is a callable that threw, or a bug of ours: keep the stack for the report.
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'failed', msg: `${host}: ${err.message}`, tb: err.stack ?? null };
}

function cancelled(host: string): ErrorResult {
  return { kind: 'cancelled', msg: `${host}: cancelled: the run was interrupted`, tb: null };
}

function since(t: number): number {
  return Math.round(performance.now() - t);
}
