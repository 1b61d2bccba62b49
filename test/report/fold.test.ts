import { describe, expect, it } from 'vitest';
import { foldResults } from '../../src/report/fold.js';
import type { HostResult } from '../../src/run/events.js';

const err = (kind: 'failed' | 'cancelled' | 'unreachable', msg: string): HostResult => ({
  ok: false,
  error: { kind, msg, tb: null },
  duration_ms: 1,
});

describe('foldResults', () => {
  it('shows each failed host its own whole message: errors that differ only in their host prefix do not fold', () => {
    const f = foldResults([
      { host: 'a', result: err('failed', 'a: shell `false` exited 1 (no stderr)') },
      { host: 'b', result: err('failed', 'b: shell `false` exited 1 (no stderr)') },
    ]);
    expect(f.map((x) => [x.hostText, x.detail])).toEqual([
      ['a', 'failed: a: shell `false` exited 1 (no stderr)'],
      ['b', 'failed: b: shell `false` exited 1 (no stderr)'],
    ]);
  });

  it('folds errors whose text is the same to the letter', () => {
    const f = foldResults(['a', 'b'].map((host) => ({ host, result: err('failed', 'the deploy lock is held') })));
    expect(f).toEqual([{ label: 'failed', hosts: ['a', 'b'], hostText: 'a,b', detail: 'failed: the deploy lock is held' }]);
  });

  it('for a report (errorsAlikeButHost), folds errors that differ only in their host prefix, shown with <host>', () => {
    const f = foldResults(
      [
        { host: 'a', result: err('failed', 'a: shell `false` exited 1 (no stderr)') },
        { host: 'b', result: err('failed', 'b: shell `false` exited 1 (no stderr)') },
      ],
      undefined,
      { errorsAlikeButHost: true },
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ label: 'failed', hostText: 'a,b', detail: 'failed: <host>: shell `false` exited 1 (no stderr)' });
  });

  it('keeps apart messages that differ beyond the host prefix (errorsAlikeButHost)', () => {
    const f = foldResults(
      [
        { host: 'a', result: err('failed', 'a: cannot reach a.example') },
        { host: 'b', result: err('failed', 'b: cannot reach a.example') },
        { host: 'c', result: err('failed', 'c: cannot reach c.example') },
      ],
      undefined,
      { errorsAlikeButHost: true },
    );
    expect(f.map((x) => x.hostText)).toEqual(['a,b', 'c']);
  });

  it('labels cancelled hosts as cancelled, after the successes, in the given host order', () => {
    const f = foldResults(
      [
        { host: 'z', result: err('cancelled', 'z: cancelled: the run was interrupted') },
        { host: 'y', result: { ok: true, value: 1, changed: false, duration_ms: 1 } },
        { host: 'x', result: err('cancelled', 'x: cancelled: the run was interrupted') },
      ],
      ['x', 'y', 'z'],
    );
    expect(f.map((g) => [g.label, g.hostText])).toEqual([
      ['ok', 'y'],
      ['cancelled', 'x'],
      ['cancelled', 'z'],
    ]);
  });
});
