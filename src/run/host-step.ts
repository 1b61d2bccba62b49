/**
 * One step on one host: template rendering, the operation itself, JSON checks on the value,
 * retries and the per-host timeout. Everything that goes wrong becomes a HostResult, never a throw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HostError, type ErrorResult } from '../errors.js';
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
  if (!ctx.check) return runAttempts(step, ctx);
  // Check mode (docs/language.md#check-mode): `check_mode` on the step overrides the callable's flag.
  if (step.policy.check_mode === 'skip') return { ok: true, value: null, changed: false, duration_ms: 0, skipped: true, outcome: 'skipped' };
  const vouched = step.policy.check_mode === 'run';
  const r = await runAttempts(step, vouched ? { ...ctx, check: false } : ctx);
  if (!r.ok) return { ...r, outcome: 'failed' };
  // Run as in a real run, as its author asked: it ran, so it is `ok`, with its own `changed`.
  if (vouched) return { ...r, outcome: 'ok' };
  // A changing step that did not run would have changed the host: it counts in changed(R).
  if (r.skipped) return { ok: true, value: r.value, changed: true, duration_ms: r.duration_ms, outcome: 'would_change' };
  return { ...r, outcome: r.changed ? 'would_change' : 'ok' };
}

async function runAttempts(step: PlanStep, ctx: HostStepContext): Promise<HostResult> {
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
 * Bound the operation by the step's timeout and the run's signal. The operation gets a signal it
 * must honour (the session stops the remote command); we also stop waiting at once, so a stuck
 * transport cannot hold the run past its timeout.
 */
async function withTimeout(
  step: PlanStep,
  ctx: HostStepContext,
  op: (signal: AbortSignal) => Promise<StepOutcome>,
): Promise<StepOutcome> {
  const ac = new AbortController();
  const timeoutMs = step.policy.timeout_ms;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let rejectStop!: (e: unknown) => void;
  const stopped = new Promise<never>((_, reject) => (rejectStop = reject));
  const onRunAbort = () => {
    ac.abort();
    rejectStop(new HostError('cancelled', `${ctx.host}: cancelled: the run was interrupted`));
  };
  if (ctx.runSignal.aborted) onRunAbort();
  else ctx.runSignal.addEventListener('abort', onRunAbort, { once: true });
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
      rejectStop(new HostError('timeout', `${ctx.host}: '${step.name}' timed out after ${formatMs(timeoutMs)}; raise the step's timeout or check the host`));
    }, timeoutMs);
  }
  const running = op(ac.signal);
  running.catch(() => {}); // settled later by the race below or ignored after a stop
  try {
    return await Promise.race([running, stopped]);
  } catch (e) {
    if (timedOut && !(e instanceof HostError && e.kind === 'timeout')) {
      throw new HostError('timeout', `${ctx.host}: '${step.name}' timed out after ${formatMs(timeoutMs!)}; raise the step's timeout or check the host`);
    }
    throw e;
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

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
