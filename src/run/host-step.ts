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

export interface HostStepContext extends PerformContext {
  /** The run's signal: aborted on SIGINT/SIGTERM. */
  runSignal: AbortSignal;
  onAttempt(attempt: number): void;
}

export async function runHostStep(step: PlanStep, ctx: HostStepContext): Promise<HostResult> {
  const started = performance.now();
  const { retries, retry_delay_ms } = step.policy;
  let error: ErrorResult = { kind: 'failed', msg: `${ctx.host}: step did not run`, tb: null };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (ctx.runSignal.aborted) {
      error = cancelled(ctx.host);
      break;
    }
    ctx.onAttempt(attempt);
    try {
      const out = await withTimeout(step, ctx, (signal) => kindOf(step.kind).perform(step, ctx, signal));
      return { ok: true, value: out.value, changed: out.changed, duration_ms: since(started), ...(out.skipped ? { skipped: true } : {}) };
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

/**
 * One deadline per host-step: a single signal, aborted by the run's interrupt or the step's
 * timeout, whose reason is the HostError to report. The operation gets it and must honour it
 * (the session stops the remote command); we also stop waiting at once, so a stuck transport
 * cannot hold the run past its deadline.
 */
async function withTimeout(
  step: PlanStep,
  ctx: HostStepContext,
  op: (signal: AbortSignal) => Promise<StepOutcome>,
): Promise<StepOutcome> {
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
            ac.abort(new HostError('timeout', `${ctx.host}: '${step.name}' timed out after ${formatDuration(timeoutMs)}; raise the step's timeout or check the host`)),
          timeoutMs,
        );
  const stopped = new Promise<never>((_, reject) => {
    const stop = () => reject(ac.signal.reason as HostError);
    if (ac.signal.aborted) stop();
    else ac.signal.addEventListener('abort', stop, { once: true });
  });
  stopped.catch(() => {});
  const running = op(ac.signal);
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
