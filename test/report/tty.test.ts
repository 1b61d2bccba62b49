/**
 * The terminal reporter fed synthetic events: what stays on the screen, what the live lines
 * show while a transfer streams, and that drawing is throttled (the executor never waits for
 * the terminal). tty-screen.test.ts drives the real CLI on a real pseudo-terminal.
 */
import { describe, expect, it } from 'vitest';
import { TtyReporter } from '../../src/report/tty.js';
import type { RunEvent } from '../../src/run/events.js';
import { Capture } from './capture.js';
import { abortedSerialRun, endStates, err, fleetRun, ok, plan, step } from './fixtures.js';
import { replay } from './pty-screen.js';

function terminal(cols = 100, rows = 40): Capture & { rows: number } {
  const out = new Capture() as Capture & { rows: number };
  out.isTTY = true;
  out.columns = cols;
  out.rows = rows;
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runAll(events: RunEvent[], frameMs = 5): Promise<{ lines: string[]; raw: string; err: string }> {
  const out = terminal();
  const stderr = new Capture();
  const r = new TtyReporter({ out: out.asWriteStream(), stderr: stderr.asWriteStream(), color: false, frameMs });
  for (const e of events) r.onEvent(e);
  await r.close();
  const s = await replay(out.text.replace(/\n/g, '\r\n'), 100, 40);
  return { lines: s.lines, raw: out.text, err: stderr.text };
}

describe('terminal reporter', () => {
  it('ends with every step, its folded results, stderr under its host, groups and the summary', async () => {
    const { lines, err: e } = await runAll(fleetRun().events);
    expect(e).toBe('');
    const i = lines.findIndex((l) => l.includes('[1/4] call ping on web[01-40]'));
    expect(lines[i]).toMatch(/^✖ \[1\/4\] call ping on web\[01-40\] \S+: 1 failed$/);
    expect(lines.slice(i + 1, i + 3)).toEqual([
      '    ok web[01-38,40]: "pong"',
      '    UNREACHABLE web39: unreachable: web39: connection refused (10.0.0.39:22)',
    ]);
    expect(lines).toContain('    web07 | warning: disk almost full');
    expect(lines).toContain('    web08 | hello from 08');
    expect(lines).toContain('    web07 | second line');
    expect(lines).toContain('    group systemd_hosts = web[01,03-38,40]');
    expect(lines).toContain('↓ [4/4] put app.tgz: not run');
    expect(lines.at(-1)).toBe('run failed: 39 ok, 0 failed, 1 unreachable (40 hosts, 1 changed) in 1.2s');
  });

  it('shows bytes, total and rate of a transfer while it streams', async () => {
    const out = terminal();
    const r = new TtyReporter({ out: out.asWriteStream(), stderr: new Capture().asWriteStream(), color: false, frameMs: 5 });
    const p = plan(['h1', 'h2'], [step(0, 'put', 'put app.tgz', ['h1', 'h2'])]);
    r.onEvent({ type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' });
    r.onEvent({ type: 'batch_started', batch: 0, hosts: ['h1', 'h2'] });
    r.onEvent({ type: 'step_started', step: 0, name: 'put app.tgz', targets: ['h1', 'h2'] });
    for (const h of ['h1', 'h2']) r.onEvent({ type: 'host_started', step: 0, host: h, attempt: 1 });
    r.onEvent({ type: 'host_progress', step: 0, host: 'h1', bytes: 0, total: 10 * 1024 * 1024 });
    await sleep(120);
    r.onEvent({ type: 'host_progress', step: 0, host: 'h1', bytes: 5 * 1024 * 1024, total: 10 * 1024 * 1024 });
    await sleep(30);
    const live = await replay(out.text.replace(/\n/g, '\r\n'), 100, 40);
    const h1 = live.lines.find((l) => l.trim().startsWith('h1 '));
    expect(h1, live.lines.join('\n')).toMatch(/h1 \S+ {2}5\.0 MiB \/ 10\.0 MiB {2}[\d.]+ MiB\/s$/);
    expect(live.lines.some((l) => l.includes('0/2 hosts done'))).toBe(true);
    r.onEvent({ type: 'host_result', step: 0, host: 'h1', result: ok({ changed: true }, true) });
    r.onEvent({ type: 'host_result', step: 0, host: 'h2', result: ok({ changed: true }, true) });
    r.onEvent({ type: 'step_finished', step: 0, status: 'ok', targets: ['h1', 'h2'] });
    r.onEvent({ type: 'run_finished', status: 'ok', duration_ms: 200, hosts: endStates(['h1', 'h2'], {}) });
    await r.close();
    const end = await replay(out.text.replace(/\n/g, '\r\n'), 100, 40);
    // The live lines are gone; the step says what moved.
    expect(end.lines.filter((l) => l.includes('MiB /'))).toEqual([]);
    expect(end.lines.find((l) => l.startsWith('✔ [1/1] put app.tgz on h[1-2]'))).toMatch(/5\.0 MiB at [\d.]+ [KMG]iB\/s$/);
  });

  it('a burst of events costs a frame, not a write per event, and no event waits for the terminal', async () => {
    const out = terminal();
    const r = new TtyReporter({ out: out.asWriteStream(), stderr: new Capture().asWriteStream(), color: false, frameMs: 50 });
    const p = plan(['h1'], [step(0, 'fetch', 'fetch big', ['h1'])]);
    r.onEvent({ type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' });
    r.onEvent({ type: 'batch_started', batch: 0, hosts: ['h1'] });
    r.onEvent({ type: 'step_started', step: 0, name: 'fetch big', targets: ['h1'] });
    r.onEvent({ type: 'host_started', step: 0, host: 'h1', attempt: 1 });
    const t0 = performance.now();
    for (let i = 1; i <= 20_000; i++) r.onEvent({ type: 'host_progress', step: 0, host: 'h1', bytes: i * 256, total: 20_000 * 256 });
    // Not one write while the events came: drawing happens on the timer.
    expect(out.chunks.length).toBe(0);
    await sleep(120);
    const elapsed = performance.now() - t0;
    expect(out.chunks.length).toBeGreaterThan(0);
    // At most one frame per 50 ms, however many events.
    expect(out.chunks.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    r.onEvent({ type: 'host_result', step: 0, host: 'h1', result: ok({ size: 5_120_000 }) });
    r.onEvent({ type: 'step_finished', step: 0, status: 'ok', targets: ['h1'] });
    r.onEvent({ type: 'run_finished', status: 'ok', duration_ms: 200, hosts: endStates(['h1'], {}) });
    await r.close();
  });

  it('serial: an aborted batch marks its step ✖, names the steps not run and the hosts whose batch never started', async () => {
    const events = abortedSerialRun();
    const { lines } = await runAll(events);
    expect(lines[1]).toBe('❯ batch 1: h[1-2]');
    expect(lines.find((l) => l.includes('[2/3] put app.tgz'))).toMatch(
      /^ {2}✖ \[2\/3\] put app\.tgz on h\[1-2\] \S+: 1 failed, aborted the run$/,
    );
    expect(lines).toContain('      FAILED h2: remote_io: h2: disk full');
    expect(lines.filter((l) => l.includes('not run'))).toEqual(['  ↓ [3/3] call restart: not run']);
    expect(lines).toContain('↓ not started: h[3-4] (cancelled: the run stopped before their batch)');
    expect(lines.at(-1)).toBe('run aborted: 1 ok, 1 failed, 0 unreachable, 2 cancelled (4 hosts, 1 changed) in 70ms');
  });

  it('a step an interrupt stopped counts its hosts cancelled, not failed, and does not blame a policy', async () => {
    const hosts = ['a', 'b'];
    const p = plan(hosts, [step(0, 'call', 'call shell', hosts)]);
    const { lines } = await runAll([
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 'call shell', targets: hosts },
      { type: 'host_result', step: 0, host: 'a', result: err('cancelled', 'a: shell was cancelled') },
      { type: 'host_result', step: 0, host: 'b', result: err('cancelled', 'b: shell was cancelled') },
      { type: 'step_finished', step: 0, status: 'aborted', targets: hosts, stopped_by: 'signal' },
      { type: 'run_finished', status: 'interrupted', duration_ms: 70, hosts: endStates(hosts, { a: 'cancelled', b: 'cancelled' }) },
    ]);
    expect(lines.find((l) => l.includes('[1/1] call shell'))).toMatch(
      /^✖ \[1\/1\] call shell on a,b \S+: 2 cancelled, stopped by the interrupt$/,
    );
  });

  it('close() finishes when the run stops in the middle of a step, showing what it has', async () => {
    const { lines } = await runAll(fleetRun().events.slice(0, 10));
    expect(lines.find((l) => l.includes('[1/4] call ping'))).toMatch(/^✖ \[1\/4\] call ping .*: did not finish$/);
    expect(lines.some((l) => /web\d\d: no result/.test(l))).toBe(true);
  });
});
