/**
 * The failure policy without subprocesses: the pure decisions of src/run/policy.ts, then the
 * real executor in-process over scripted hosts (test/support/fake-hosts.ts).
 */
import { describe, expect, it } from 'vitest';
import { abortsRun, exceedsMaxFailures, isFailure, keepsHost, retryAfter } from '../../src/run/policy.js';
import type { StepPolicy } from '../../src/model/playbook.js';
import { fakePlan, outcomes, runFake, stepStatuses, targetsOf, type FakeStep, type Scripted } from '../support/fake-hosts.js';

const policy = (p: Partial<StepPolicy> = {}): StepPolicy => ({ on_failure: 'continue', retries: 0, retry_delay_ms: 0, ...p });
const failed = { ok: false as const, error: { kind: 'failed' as const, msg: 'x', tb: null }, duration_ms: 1 };
const ok = { ok: true as const, value: null, changed: false, duration_ms: 1 };

describe('pure decisions', () => {
  it('keepsHost: ok always; a failure only under ignore', () => {
    expect(keepsHost(policy(), ok)).toBe(true);
    expect(keepsHost(policy(), failed)).toBe(false);
    expect(keepsHost(policy({ on_failure: 'abort' }), failed)).toBe(false);
    expect(keepsHost(policy({ on_failure: 'ignore' }), failed)).toBe(true);
  });

  it('retryAfter: up to `retries` more attempts, never after a cancel', () => {
    const p = policy({ retries: 2 });
    expect([1, 2, 3].map((a) => retryAfter(p, failed.error, a))).toEqual([true, true, false]);
    expect(retryAfter(p, { kind: 'cancelled', msg: '', tb: null }, 1)).toBe(false);
    expect(retryAfter(policy(), failed.error, 1)).toBe(false);
  });

  it('abortsRun: abort policy on any failure; max_failures strictly above the limit', () => {
    expect(abortsRun(policy({ on_failure: 'abort' }), 0, 4)).toBe(false);
    expect(abortsRun(policy({ on_failure: 'abort' }), 1, 4)).toBe(true);
    expect(abortsRun(policy({ max_failures: { count: 1 } }), 1, 4)).toBe(false);
    expect(abortsRun(policy({ max_failures: { count: 1 } }), 2, 4)).toBe(true);
    expect(exceedsMaxFailures({ percent: 25 }, 1, 4)).toBe(false);
    expect(exceedsMaxFailures({ percent: 25 }, 2, 4)).toBe(true);
    expect(exceedsMaxFailures({ percent: 0 }, 1, 0)).toBe(false);
  });
});

const HOSTS = ['a', 'b', 'c', 'd'];
async function run(steps: FakeStep[], extra = {}, opts = {}) {
  return runFake(fakePlan(HOSTS, steps, extra), steps, opts);
}

describe('executor over scripted hosts', () => {
  it('continue: the failed host is dropped from later steps, the run is failed', async () => {
    const r = await run([{ results: { b: { error: 'failed' } } }, {}, { on: ['b', 'c'] }]);
    expect([targetsOf(r, 0), targetsOf(r, 1), targetsOf(r, 2)]).toEqual([HOSTS, ['a', 'c', 'd'], ['c']]);
    expect(r.status).toBe('failed');
    expect(r.hosts).toEqual({ a: 'ok', b: 'failed', c: 'ok', d: 'ok' });
  });

  it('abort: in-flight hosts finish, later steps are not run, others cancelled', async () => {
    const r = await run([{ results: { b: { error: 'failed' }, d: { delay: 50, then: 'late' } }, policy: { on_failure: 'abort' } }, {}]);
    expect(r.status).toBe('aborted');
    expect(outcomes(r, 0)).toEqual({ a: 'ok', b: 'failed', c: 'ok', d: 'ok' });
    expect(stepStatuses(r)).toEqual(['aborted', 'not_run']);
    expect(r.hosts).toEqual({ a: 'cancelled', b: 'failed', c: 'cancelled', d: 'cancelled' });
  });

  it('ignore: the error is recorded and the host keeps going', async () => {
    const r = await run([{ results: { b: { error: 'failed' } }, policy: { on_failure: 'ignore' } }, {}]);
    expect(r.status).toBe('ok');
    expect(targetsOf(r, 1)).toEqual(HOSTS);
    expect(r.hosts).toEqual({ a: 'ok', b: 'ok', c: 'ok', d: 'ok' });
  });

  it('ignore: an unreachable host is kept and tried again, but ends unreachable and the run is failed', async () => {
    const r = await run([{ results: { b: { error: 'unreachable' } }, policy: { on_failure: 'ignore' } }, {}]);
    expect(targetsOf(r, 1)).toEqual(HOSTS);
    expect(r.hosts).toEqual({ a: 'ok', b: 'unreachable', c: 'ok', d: 'ok' });
    expect(r.status).toBe('failed');
  });

  it.each([
    [{ count: 1 }, { b: { error: 'failed' } }, 'failed'],
    [{ count: 1 }, { b: { error: 'failed' }, c: { error: 'unreachable' } }, 'aborted'],
    [{ percent: 50 }, { b: { error: 'failed' }, c: { error: 'failed' } }, 'failed'],
    [{ percent: 50 }, { a: { error: 'failed' }, b: { error: 'failed' }, c: { error: 'failed' } }, 'aborted'],
  ] as const)('max_failures %j with %j → %s', async (max, results, status) => {
    const r = await run([{ results, policy: { max_failures: max } }, {}]);
    expect(r.status).toBe(status);
  });

  it('retries: a host that fails twice then succeeds passes with retries: 2, after 3 attempts', async () => {
    const script: Scripted = { attempts: [{ error: 'failed' }, { error: 'connection_lost' }, 'fine'] };
    const r = await run([{ results: { a: script }, policy: { retries: 2 } }]);
    expect(outcomes(r, 0).a).toBe('ok');
    expect(r.attempts.get(0)!.get('a')).toBe(3);
    const r1 = await run([{ results: { a: script }, policy: { retries: 1 } }]);
    expect(outcomes(r1, 0).a).toBe('connection_lost');
    expect(r1.attempts.get(0)!.get('a')).toBe(2);
  });

  it('a 50 ms timeout stops a 10 s operation with kind timeout, within 5 s', async () => {
    const t0 = performance.now();
    const r = await run([{ results: { a: { delay: 10_000, then: 1 } }, policy: { timeout_ms: 50 } }]);
    expect(outcomes(r, 0).a).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('serial: a batch that aborts stops the later batches, whose hosts are cancelled', async () => {
    const steps: FakeStep[] = [{ results: { b: { error: 'failed' } }, policy: { on_failure: 'abort' } }];
    const r = await run(steps, { serial: [{ count: 2 }] });
    expect(r.status).toBe('aborted');
    expect(r.hosts).toEqual({ a: 'ok', b: 'failed', c: 'cancelled', d: 'cancelled' });
    expect(r.events.filter((e) => e.type === 'batch_started').length).toBe(1);
  });

  it('free: set algebra per host; a filter group is decided host by host', async () => {
    const steps: FakeStep[] = [{ results: { a: true, b: false, c: true, d: false }, filter: { as: 'yes', member: true } }, {}];
    const r = await run(steps, { strategy: 'free' });
    expect(r.status).toBe('ok');
    const decided = r.events.find((e) => e.type === 'group_decided');
    expect(decided).toMatchObject({ group: 'yes', hosts: ['a', 'c'] });
  });

  it('an interrupted run cancels what is in flight and starts nothing new', async () => {
    const ac = new AbortController();
    const steps: FakeStep[] = [{ results: { a: { delay: 10_000, then: 1 } } }, {}];
    setTimeout(() => ac.abort(), 50);
    const r = await run(steps, {}, { signal: ac.signal });
    expect(r.status).toBe('interrupted');
    expect(outcomes(r, 0).a).toBe('cancelled');
    expect(stepStatuses(r)[1]).toBe('not_run');
  });
});

describe('check mode and the policy', () => {
  it('an unknown host (check mode) is kept and is not a failure, even under on_failure: abort', () => {
    const unknown = { ...failed, outcome: 'unknown' as const };
    expect(isFailure(unknown)).toBe(false);
    expect(keepsHost(policy({ on_failure: 'abort' }), unknown)).toBe(true);
    expect(isFailure({ ...failed, outcome: 'failed' as const })).toBe(true);
    expect(isFailure(ok)).toBe(false);
  });

  it('check_mode: skip results are in no outcome set; a skipped step does not fail the run', async () => {
    const steps: FakeStep[] = [{ register: 'r', policy: { check_mode: 'skip' } }, { on: ['a'] }];
    const run = await runFake(fakePlan(['a', 'b'], steps), steps, { check: true });
    expect(run.status).toBe('ok');
    const first = run.events.find((e) => e.type === 'host_result' && e.step === 0);
    expect(first?.type === 'host_result' && first.result).toMatchObject({ ok: true, skipped: true, outcome: 'skipped' });
  });
});
