import { describe, expect, it } from 'vitest';
import { definitionOrder, mergeShardReports } from '../../src/report/merge.js';
import type { RunReport } from '../../src/report/report-types.js';
import { fail, okv, reportOf, resultsFor } from './ci-fixtures.js';

const ALL = ['web2', 'web10', 'db', 'app1', 'app3'];

function shardReport(index: number, count: number, hosts: string[], extra: Partial<RunReport> = {}): RunReport {
  return reportOf(
    [
      { name: 'call ping', targets: hosts, results: resultsFor(hosts, () => okv('pong')) },
      {
        name: 'call deploy',
        targets: hosts,
        results: resultsFor(hosts, (h) => (h === 'db' ? fail('failed', 'db: boom') : okv(h, 5, true))),
      },
    ],
    { shard: { index, count, host_order: ALL }, groups: { web: ['web2', 'web10'] }, ...extra },
  );
}

describe('report merge', () => {
  it('merges shards into one report in definition order, status the worst', () => {
    const a = shardReport(0, 2, ['web10', 'app3'], { started_at: '2026-11-27T10:00:01.000Z', duration_ms: 1000 });
    const b = shardReport(1, 2, ['web2', 'db', 'app1'], { started_at: '2026-11-27T10:00:00.000Z', duration_ms: 500 });
    const r = mergeShardReports([
      { name: 'a.json', report: a },
      { name: 'b.json', report: b },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.report;
    expect(m.status).toBe('failed');
    expect(m.shard).toBeUndefined();
    expect(Object.keys(m.hosts)).toEqual(ALL);
    expect(m.hosts.db).toBe('failed');
    expect(m.steps.map((s) => s.targets)).toEqual([ALL, ALL]);
    expect(Object.keys(m.steps[1]!.results)).toEqual(ALL);
    expect(m.steps.map((s) => s.status)).toEqual(['ok', 'failed']);
    expect(m.groups).toEqual({ web: ['web2', 'web10'] });
    expect(m.started_at).toBe('2026-11-27T10:00:00.000Z');
    expect(m.duration_ms).toBe(2000);
    expect(m.merged_from!.map((x) => [x.index, x.status])).toEqual([
      [0, 'ok'],
      [1, 'failed'],
    ]);
  });

  it('says which reports do not belong together', () => {
    const problems = (inputs: Array<[string, RunReport]>) => {
      const r = mergeShardReports(inputs.map(([name, report]) => ({ name, report })));
      expect(r.ok).toBe(false);
      return r.ok ? [] : r.problems;
    };
    const s0 = shardReport(0, 3, ['web2']);
    const s1 = shardReport(1, 3, ['db']);
    const s2 = shardReport(2, 3, ['app1']);
    expect(
      problems([
        ['a', s0],
        ['b', s1],
      ]),
    ).toEqual(['missing shard 2/3 (each of the 3 shards must be given once)']);
    expect(
      problems([
        ['a', s0],
        ['b', s0],
        ['c', s1],
        ['d', s2],
      ]),
    ).toEqual(['b: shard 0/3 was given twice (also a)']);
    expect(
      problems([
        ['a', s0],
        ['b', { ...s1, playbook_sha256: 'c'.repeat(64) }],
        ['c', s2],
      ])[0],
    ).toMatch(/^b: playbook sha256 cccccccccccc… differs from a's bbbbbbbbbbbb…/);
    expect(
      problems([
        ['a', s0],
        ['b', shardReport(1, 4, ['db'])],
        ['c', s2],
      ]),
    ).toEqual(['b: shard 1/4, but a is one of 3 shards']);
    expect(
      problems([
        ['a', s0],
        ['b', { ...s1, check: true }],
        ['c', s2],
      ]),
    ).toEqual(['b: a check run, but a is a real run']);
    const { shard: _s, ...plain } = s0;
    expect(problems([['plain.json', plain as RunReport]])[0]).toMatch(/^plain\.json: not a shard report/);
  });

  it('rebuilds definition order from groups and targets when reports predate host_order', () => {
    const strip = (r: RunReport): RunReport => ({ ...r, shard: { index: r.shard!.index, count: r.shard!.count } });
    const a = strip(
      reportOf([{ name: 's', targets: ['z1', 'b7'], results: {} }], {
        shard: { index: 0, count: 2 },
        groups: { g: ['z1', 'm', 'b7', 'a'] },
      }),
    );
    const b = strip(
      reportOf([{ name: 's', targets: ['m', 'a'], results: {} }], { shard: { index: 1, count: 2 }, groups: { g: ['z1', 'm', 'b7', 'a'] } }),
    );
    expect(definitionOrder([a, b])).toEqual(['z1', 'm', 'b7', 'a']);
    // Undecided by the reports: natural order (web2 before web10).
    expect(
      definitionOrder([
        reportOf([{ name: 's', targets: ['web10'], results: {} }]),
        reportOf([{ name: 's', targets: ['web2'], results: {} }]),
      ]),
    ).toEqual(['web2', 'web10']);
  });
});
