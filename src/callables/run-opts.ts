import type { RunOptions } from '../transports/session.js';
import type { CallContext } from './types.js';

/** The step's become, cancellation (its deadline included), stderr echo and result limit, for one command. */
export function baseRunOptions(ctx: CallContext, extra: RunOptions = {}): RunOptions {
  return {
    become: ctx.become,
    signal: ctx.signal,
    onStderr: ctx.onStderr,
    maxStdout: ctx.maxResult,
    ...extra,
  };
}

/** Last lines of stderr for messages: enough to act on, short enough to read. */
export function stderrTail(stderr: string, max = 500): string {
  const t = stderr.trim();
  return t.length > max ? `…${t.slice(t.length - max)}` : t;
}
