/**
 * One step on one host: template rendering, the operation itself, JSON checks on the value,
 * retries and the per-host timeout. Everything that goes wrong becomes a HostResult, never a throw.
 */
import { resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostError, type ErrorResult } from '../errors.js';
import type { Json } from '../model/playbook.js';
import type { PlanStep } from '../compile/plan-types.js';
import type { HostSession } from '../transports/session.js';
import type { Callable, CallContext, CallOutcome } from '../callables/types.js';
import { renderArgs, renderTemplate, type TemplateEnv } from '../lang/templates.js';
import { checkJsonValue } from '../lang/json-guard.js';
import type { HostResult } from './events.js';

export interface HostStepContext {
  host: string;
  hostVars: Record<string, Json>;
  vars: Record<string, Json>;
  baseDir: string;
  check: boolean;
  maxResult: number;
  results: Record<string, Json>;
  /** The run's signal: aborted on SIGINT/SIGTERM. */
  runSignal: AbortSignal;
  session(): Promise<HostSession>;
  callable(name: string): Promise<Callable>;
  onStderr(text: string): void;
  onProgress(bytes: number, total: number | null): void;
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
      const out = await withTimeout(step, ctx, (signal) => perform(step, ctx, signal));
      return { ok: true, value: out.value, changed: out.changed, duration_ms: since(started), ...(out.skipped ? { skipped: true } : {}) };
    } catch (e) {
      error = toErrorResult(e, ctx.host);
      if (error.kind === 'cancelled' || attempt > retries) break;
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

interface StepOutcome extends CallOutcome {
  skipped?: boolean;
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

async function perform(step: PlanStep, ctx: HostStepContext, signal: AbortSignal): Promise<StepOutcome> {
  const env: TemplateEnv = { host: ctx.host, vars: ctx.vars, hostvars: ctx.hostVars, results: ctx.results };
  const become = step.policy.become;
  switch (step.kind) {
    case 'call':
    case 'filter': {
      const callable = await ctx.callable(step.callable);
      if (ctx.check && !callable.readonly) {
        return { value: null, changed: false, skipped: true };
      }
      const rendered = renderArgs(step.args, env);
      if (!rendered.ok) throw new HostError('failed', `${ctx.host}: ${rendered.message} (in args.${rendered.path})`);
      const session = await ctx.session();
      const callCtx: CallContext = {
        session,
        hostName: ctx.host,
        hostVars: ctx.hostVars,
        args: rendered.value,
        baseDir: ctx.baseDir,
        become,
        timeoutMs: step.policy.timeout_ms,
        signal,
        onStderr: ctx.onStderr,
        maxResult: ctx.maxResult,
        call: async (name, args) => (await (await ctx.callable(name)).invoke({ ...callCtx, args })).value,
      };
      const out = await callable.invoke(callCtx);
      const checked = checkJsonValue(out.value, { maxBytes: ctx.maxResult });
      if (!checked.ok) {
        throw new HostError('invalid_result', `${ctx.host}: ${step.callable} returned a value that is not allowed: ${checked.message}`);
      }
      if (step.kind === 'filter' && typeof checked.value !== 'boolean') {
        throw new HostError('invalid_result', `${ctx.host}: filter ${step.callable} must return true or false, got ${preview(checked.value)}`);
      }
      return { value: checked.value, changed: out.changed };
    }
    case 'put': {
      const src = renderPath(step.src, env, ctx.host, 'put');
      const to = step.to === undefined ? undefined : renderPath(step.to, env, ctx.host, 'to');
      const session = await ctx.session();
      const local = resolvePath(ctx.baseDir, src);
      const opts = { become, signal, timeoutMs: step.policy.timeout_ms, onProgress: ctx.onProgress };
      const v = ctx.check ? await session.putCheck(local, to, step.mode, opts) : await session.put(local, to, step.mode, opts);
      return { value: { ...v }, changed: v.changed };
    }
    case 'fetch': {
      const src = renderPath(step.src, env, ctx.host, 'fetch');
      const to = step.to === undefined ? undefined : resolvePath(ctx.baseDir, renderPath(step.to, env, ctx.host, 'to'));
      const session = await ctx.session();
      if (ctx.check) {
        const info = await session.stat(src, { become, signal, withSha1: true, follow: true });
        if (!info.exists) throw new HostError('not_found', `${ctx.host}: ${src} does not exist`);
        if (info.type !== 'file') throw new HostError('failed', `${ctx.host}: ${src} is a ${info.type ?? 'special file'}, not a file; fetch copies one file`);
        return { value: { remote_path: src, size: info.size, sha1sum: info.sha1sum }, changed: false };
      }
      const v = await session.fetch(src, to, { become, signal, timeoutMs: step.policy.timeout_ms, onProgress: ctx.onProgress });
      // Fetch changes the controller, not the host.
      return { value: { ...v }, changed: false };
    }
  }
}

function renderPath(template: string, env: TemplateEnv, host: string, key: string): string {
  const r = renderTemplate(template, env);
  if (!r.ok) throw new HostError('failed', `${host}: ${r.message} (in ${key})`);
  if (typeof r.value !== 'string') {
    if (typeof r.value === 'number') return String(r.value);
    throw new HostError('failed', `${host}: ${key} must be a path, but the template gave ${preview(r.value)}`);
  }
  return r.value;
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

function preview(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
