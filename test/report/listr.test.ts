import { describe, expect, it } from 'vitest';
import { ListrReporter, type ListrRendererName } from '../../src/report/listr.js';
import type { RunEvent } from '../../src/run/events.js';
import { Capture } from './capture.js';
import { endStates, err, fleetRun, ok, plan, step, stepEvents } from './fixtures.js';

async function runListr(events: RunEvent[], renderer: ListrRendererName, opts: { tty?: boolean; gapMs?: number } = {}): Promise<{ out: string; err: string }> {
  const out = new Capture();
  out.isTTY = opts.tty ?? false;
  const stderr = new Capture();
  const r = new ListrReporter({ out: out.asWriteStream(), stderr: stderr.asWriteStream(), color: false, renderer });
  for (const e of events) {
    r.onEvent(e);
    if (opts.gapMs) await new Promise((res) => setTimeout(res, opts.gapMs));
  }
  await r.close();
  return { out: out.text, err: stderr.text };
}

function serialRun(): RunEvent[] {
  const hosts = ['h1', 'h2', 'h3', 'h4'];
  const p = plan(hosts, [step(0, 'call', 'call ping', hosts), step(1, 'put', 'put app.tgz', hosts)], { serial: [{ count: 2 }] });
  return [
    { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
    { type: 'batch_started', batch: 0, hosts: ['h1', 'h2'] },
    ...stepEvents(0, 'call ping', [['h1', ok('pong')], ['h2', ok('pong')]]),
    { type: 'step_started', step: 1, name: 'put app.tgz', targets: ['h1', 'h2'] },
    { type: 'host_progress', step: 1, host: 'h1', bytes: 5 * 1024 * 1024, total: 10 * 1024 * 1024 },
    { type: 'host_result', step: 1, host: 'h1', result: ok({ changed: true }, true) },
    { type: 'host_result', step: 1, host: 'h2', result: err('remote_io', 'h2: disk full') },
    { type: 'step_finished', step: 1, status: 'aborted', targets: ['h1', 'h2'] },
    { type: 'step_finished', step: 0, status: 'not_run', targets: [] },
    { type: 'step_finished', step: 1, status: 'not_run', targets: [] },
    { type: 'run_finished', status: 'aborted', duration_ms: 70, hosts: endStates(hosts, { h2: 'remote_io', h3: 'cancelled', h4: 'cancelled' }) },
  ];
}

describe('listr reporter', () => {
  for (const renderer of ['simple', 'verbose'] as const) {
    it(`runs a whole synthetic run with the ${renderer} renderer without throwing`, async () => {
      const { out, err: e } = await runListr(fleetRun().events, renderer);
      expect(e).toBe('');
      expect(out).toContain('[1/4] call ping');
      expect(out).toContain('web39');
      expect(out.trimEnd().split('\n').at(-1)).toBe('run failed: 39 ok, 0 failed, 1 unreachable (40 hosts, 1 changed) in 1.2s');
    });
  }

  it('shows folded results of a step and failures by host (simple renderer)', async () => {
    const { out } = await runListr(fleetRun().events, 'simple', { gapMs: 1 });
    expect(out).toContain('ok web[01-38,40]: "pong"');
    expect(out).toContain('web39 UNREACHABLE unreachable: web39: connection refused');
  });

  it('handles serial batches, progress and an aborted run', async () => {
    const { out, err: e } = await runListr(serialRun(), 'simple');
    expect(e).toBe('');
    expect(out).toContain('batch 1');
    expect(out).toContain('h2 FAILED remote_io: h2: disk full');
    expect(out).toContain('1 failed, aborted the run');
    expect(out).toContain('run aborted: 1 ok, 1 failed, 0 unreachable, 2 cancelled (4 hosts, 1 changed)');
  });

  it('draws with the default renderer on a (fake) terminal and finishes', async () => {
    const { out, err: e } = await runListr(fleetRun().events, 'default', { tty: true, gapMs: 1 });
    expect(e).toBe('');
    expect(out).toContain('call ping');
    expect(out).toContain('run failed:');
  });

  it('close() finishes even when the run stops in the middle of a step', async () => {
    const events = fleetRun().events.slice(0, 10);
    const { out } = await runListr(events, 'simple');
    expect(out).toContain('[1/4] call ping');
  });
});
