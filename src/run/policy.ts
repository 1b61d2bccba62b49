/**
 * The failure policy as pure decisions (docs/language.md#failure-policy), so it can be tested
 * without hosts and the strategies only schedule.
 */
import type { ErrorResult } from '../errors.js';
import type { MaxFailures, StepPolicy } from '../model/playbook.js';
import type { HostResult } from './events.js';

/** After a host's result in a step: does the host go on to later steps? */
export function keepsHost(policy: StepPolicy, result: HostResult): boolean {
  return !isFailure(result) || policy.on_failure === 'ignore';
}

/** A failed host; in check mode an `unknown` one (it may depend on a change not made) is not. */
export function isFailure(result: HostResult): boolean {
  return !result.ok && result.outcome !== 'unknown';
}

/** After a failed attempt (1-based): try the operation again? An interrupted run never retries. */
export function retryAfter(policy: StepPolicy, error: ErrorResult, attempt: number): boolean {
  return error.kind !== 'cancelled' && attempt <= policy.retries;
}

/** Whether `failures` failed hosts out of `targets` stop the run after this step. */
export function abortsRun(policy: StepPolicy, failures: number, targets: number): boolean {
  return failures > 0 && (policy.on_failure === 'abort' || exceedsMaxFailures(policy.max_failures, failures, targets));
}

/** `max_failures`: strictly more than the limit aborts. */
export function exceedsMaxFailures(limit: MaxFailures | undefined, failures: number, targets: number): boolean {
  if (!limit) return false;
  if ('count' in limit) return failures > limit.count;
  return targets > 0 && (failures * 100) / targets > limit.percent;
}
