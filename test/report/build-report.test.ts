import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv2020, type SchemaObject } from 'ajv/dist/2020.js';
import { buildReport, ReportBuilder } from '../../src/report/build-report.js';
import type { RunEvent } from '../../src/run/events.js';
import { endStates, err, fleetRun, ok, plan, step, stepEvents, web40 } from './fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8')) as SchemaObject;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

function expectValid(report: unknown): void {
  const ok = validate(report);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(ok).toBe(true);
}

describe('buildReport', () => {
  it('builds a schema-valid report of a whole run', () => {
    const { events } = fleetRun();
    const r = buildReport(events);
    expectValid(r);
    expect(r.status).toBe('failed');
    expect(r.playbook).toBe('playbooks/deploy.yaml');
    expect(r.duration_ms).toBe(1234);
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'ok', 'ok', 'not_run']);
    expect(r.steps[3]).toMatchObject({ targets: [], results: {} });
    expect(r.steps[1]!.targets).not.toContain('web39');
    expect(r.hosts.web39).toBe('unreachable');
    expect(r.hosts.web01).toBe('ok');
    // static groups resolved, filter group as decided (web02 returned false, web39 never ran)
    expect(r.groups.web).toEqual(web40);
    expect(r.groups.systemd_hosts).toEqual(web40.filter((h) => h !== 'web02' && h !== 'web39'));
  });

  it('keys results in target order, not arrival order', () => {
    const p = plan(['a', 'b', 'c'], [step(0, 'call', 'call ping', ['a', 'b', 'c'])]);
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 'call ping', targets: ['a', 'b', 'c'] },
      { type: 'host_result', step: 0, host: 'c', result: ok('pong') },
      { type: 'host_result', step: 0, host: 'a', result: ok('pong') },
      { type: 'host_result', step: 0, host: 'b', result: ok('pong') },
      { type: 'step_finished', step: 0, status: 'ok', targets: ['a', 'b', 'c'] },
      { type: 'run_finished', status: 'ok', duration_ms: 3, hosts: endStates(['a', 'b', 'c'], {}) },
    ];
    const r = buildReport(evs);
    expect(Object.keys(r.steps[0]!.results)).toEqual(['a', 'b', 'c']);
    expectValid(r);
  });

  it('merges serial batches: targets in batch order, worst status wins', () => {
    const hosts = ['h1', 'h2', 'h3', 'h4'];
    const p = plan(hosts, [step(0, 'call', 'call ping', hosts)], { serial: [{ count: 2 }] });
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'batch_started', batch: 0, hosts: ['h1', 'h2'] },
      ...stepEvents(0, 'call ping', [
        ['h1', ok('pong')],
        ['h2', ok('pong')],
      ]),
      { type: 'batch_started', batch: 1, hosts: ['h3', 'h4'] },
      ...stepEvents(0, 'call ping', [
        ['h3', ok('pong')],
        ['h4', err('failed', 'h4: exit 1')],
      ]),
      { type: 'run_finished', status: 'failed', duration_ms: 9, hosts: endStates(hosts, { h4: 'failed' }) },
    ];
    const r = buildReport(evs);
    expectValid(r);
    expect(r.steps[0]!.targets).toEqual(hosts);
    expect(Object.keys(r.steps[0]!.results)).toEqual(hosts);
    expect(r.steps[0]!.status).toBe('failed');
  });

  it('takes free-strategy targets from step_finished, not the announced upper bound', () => {
    const hosts = ['a', 'b', 'c'];
    const p = plan(hosts, [step(0, 'call', 'call ping', hosts)], { strategy: 'free' });
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 'call ping', targets: hosts },
      { type: 'host_result', step: 0, host: 'a', result: ok('pong') },
      { type: 'step_finished', step: 0, status: 'ok', targets: ['a'] },
      { type: 'run_finished', status: 'ok', duration_ms: 1, hosts: endStates(['a'], {}) },
    ];
    expect(buildReport(evs).steps[0]!.targets).toEqual(['a']);
  });

  it('reports a run cut short (no run_finished) as interrupted, still schema-valid', () => {
    const p = plan(['a', 'b'], [step(0, 'put', 'put x', ['a', 'b']), step(1, 'fetch', 'fetch y', ['a', 'b'])]);
    const b = new ReportBuilder();
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: true, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 'put x', targets: ['a', 'b'] },
      {
        type: 'host_result',
        step: 0,
        host: 'a',
        result: { ok: true, value: { changed: true }, changed: true, duration_ms: 2, skipped: true },
      },
    ];
    for (const e of evs) b.onEvent(e);
    const r = b.report();
    expectValid(r);
    expect(r.status).toBe('interrupted');
    expect(r.check).toBe(true);
    expect(r.steps[0]!.status).toBe('aborted');
    expect(r.steps[0]!.targets).toEqual(['a', 'b']);
    expect(r.steps[1]!.status).toBe('not_run');
    // Both had work left (a its fetch, b both steps), as the executor says after one SIGINT.
    expect(r.hosts).toEqual({ a: 'cancelled', b: 'cancelled' });
    expect(r.steps[1]!.targets).toEqual(['a', 'b']);
  });

  it('a run cut short lists hosts whose first step had not started as cancelled, and keeps earlier failures', () => {
    const p = plan(['a', 'b', 'c'], [step(0, 'call', 'slow', ['a', 'b']), step(1, 'call', 'next', ['a', 'b', 'c'])]);
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 'slow', targets: ['a', 'b'] },
      { type: 'host_result', step: 0, host: 'a', result: err('failed', 'a: exit 1') },
      { type: 'host_result', step: 0, host: 'b', result: err('cancelled', 'b: cancelled') },
    ];
    const r = buildReport(evs);
    expectValid(r);
    // c never ran a step, yet had one to run: `--resume` must bring it back.
    expect(r.hosts).toEqual({ a: 'failed', b: 'cancelled', c: 'cancelled' });
    expect(r.steps[1]!.targets).toEqual(['b', 'c']);
  });

  it('an interrupt in a later step does not hide a host that had failed', () => {
    const p = plan(['a'], [step(0, 'call', 'bad', ['a']), { ...step(1, 'call', 'cleanup', ['a']), phase: 'finally' }]);
    const evs: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'bad', [['a', err('failed', 'a: exit 1')]]),
      { type: 'step_started', step: 1, name: 'cleanup', targets: ['a'] },
      { type: 'host_result', step: 1, host: 'a', result: err('cancelled', 'a: cancelled') },
    ];
    expect(buildReport(evs).hosts).toEqual({ a: 'failed' });
  });

  it('the schema rejects what the contract forbids', () => {
    const r = buildReport(fleetRun().events) as unknown as Record<string, unknown>;
    expect(validate({ ...r, status: 'weird' })).toBe(false);
    expect(validate({ ...r, extra: 1 })).toBe(false);
    const steps = structuredClone(r.steps) as Array<{ results: Record<string, unknown> }>;
    steps[0]!.results.web01 = { ok: false, error: { kind: 'oops', msg: 'x', tb: null }, duration_ms: 1 };
    expect(validate({ ...r, steps })).toBe(false);
    const { hosts: _h, ...noHosts } = r;
    expect(validate(noHosts)).toBe(false);
  });
});
