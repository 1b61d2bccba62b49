import { describe, expect, it } from 'vitest';
import { PlainReporter } from '../../src/report/plain.js';
import { createQuietReporter } from '../../src/report/quiet.js';
import { foldResults } from '../../src/report/fold.js';
import { shouldColor } from '../../src/report/format.js';
import type { RunEvent } from '../../src/run/events.js';
import { Capture } from './capture.js';
import { abortedSerialRun, endStates, err, fleetRun, ok, plan, skipped, step, stepEvents } from './fixtures.js';

async function runPlain(events: RunEvent[], quiet = false, color = false): Promise<string[]> {
  const out = new Capture();
  const stderr = new Capture();
  const r = quiet ? createQuietReporter({ out, stderr, color }) : new PlainReporter({ out, stderr, color });
  for (const e of events) r.onEvent(e);
  await r.close();
  expect(stderr.text).toBe('');
  return out.text.split('\n').filter((l) => l !== '');
}

describe('plain reporter', () => {
  it('folds 40 identical results into one line and makes the odd host stand out', async () => {
    const lines = await runPlain(fleetRun().events);
    expect(lines).toContain('▶ [1/4] call ping on web[01-40]');
    const i = lines.indexOf('▶ [1/4] call ping on web[01-40]');
    expect(lines.slice(i + 1, i + 3)).toEqual([
      '  ok web[01-38,40]: "pong"',
      '  UNREACHABLE web39: unreachable: web39: connection refused (10.0.0.39:22)',
    ]);
    // one line per distinct value, not per host
    expect(lines.filter((l) => l.includes('"pong"'))).toHaveLength(1);
    // the changed host of step 2 is its own group, the rest fold
    expect(lines).toContain('  ok web[02-38,40]: {"rc":0,"stdout":"x"}');
    expect(lines).toContain('  changed web01: {"rc":0,"stdout":"x"}');
    expect(lines).toContain('  ok web02: false');
    expect(lines).toContain('  group systemd_hosts = web[01,03-38,40]');
  });

  it('echoes remote stderr line by line with the host in front', async () => {
    const lines = await runPlain(fleetRun().events);
    const stderrLines = lines.filter((l) => l.includes(' | '));
    expect(stderrLines).toEqual(['web08 | hello from 08', 'web07 | warning: disk almost full', 'web07 | second line']);
    // the unfinished last line is flushed before the step's results
    expect(lines.indexOf('web07 | second line')).toBeLessThan(lines.indexOf('  changed web01: {"rc":0,"stdout":"x"}'));
  });

  it('strategy free: results printed after a later step started say which step they belong to', async () => {
    const hosts = ['a', 'b'];
    const p = plan(hosts, [step(0, 'call', 's0', hosts), step(1, 'call', 's1', hosts)], { strategy: 'free' });
    const lines = await runPlain([
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      { type: 'step_started', step: 0, name: 's0', targets: hosts },
      { type: 'host_result', step: 0, host: 'b', result: ok('b0') },
      { type: 'step_started', step: 1, name: 's1', targets: hosts },
      { type: 'host_result', step: 1, host: 'b', result: err('failed', 'b: boom') },
      { type: 'host_result', step: 0, host: 'a', result: ok('a0') },
      { type: 'step_finished', step: 0, status: 'ok', targets: hosts },
      { type: 'host_result', step: 1, host: 'a', result: ok('a1') },
      { type: 'step_finished', step: 1, status: 'failed', targets: hosts },
      { type: 'run_finished', status: 'failed', duration_ms: 5, hosts: endStates(hosts, { b: 'failed' }) },
    ]);
    const s0 = lines.indexOf('◀ [1/2] s0 (results)');
    const s1 = lines.indexOf('◀ [2/2] s1 (results)');
    expect(s0).toBeGreaterThan(lines.indexOf('▶ [2/2] s1 on a,b'));
    expect(lines.slice(s0 + 1, s0 + 3)).toEqual(['  ok a: "a0"', '  ok b: "b0"']);
    expect(lines[s1 + 1]).toBe('  ok a: "a1"');
    expect(lines[s1 + 2]).toMatch(/^ {2}FAILED b: failed: b: boom/);
  });

  it('ends with one summary line of counts, status and duration', async () => {
    const lines = await runPlain(fleetRun().events);
    expect(lines.at(-1)).toBe('run failed: 39 ok, 0 failed, 1 unreachable (40 hosts, 1 changed) in 1.2s');
    expect(lines[0]).toBe('== Deploy (playbooks/deploy.yaml): 40 hosts, 4 steps');
  });

  it('shows check-mode skips as skipped and failures with their kind', async () => {
    const hosts = ['a1', 'a2', 'a3'];
    const p = plan(hosts, [step(0, 'call', 'call shell', hosts)]);
    const lines = await runPlain([
      { type: 'run_started', plan: p, check: true, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'call shell', [
        ['a1', skipped()],
        ['a2', skipped()],
        ['a3', err('timeout', 'a3: timed out after 1s')],
      ]),
      { type: 'run_finished', status: 'failed', duration_ms: 50, hosts: endStates(hosts, { a3: 'timeout' }) },
    ]);
    expect(lines).toContain('  skipped a[1-2] (check mode)');
    expect(lines).toContain('  FAILED a3: timeout: a3: timed out after 1s');
    expect(lines[0]).toContain('check mode');
    expect(lines.at(-1)).toBe('check failed: 2 ok, 1 failed, 0 unreachable (3 hosts, 0 would change, 0 unknown) in 50ms');
  });

  it("prints each failed host's whole message, even when they differ only by the host name", async () => {
    const folded = foldResults(['db1', 'db2', 'db3'].map((h) => ({ host: h, result: err('failed', `${h}: command exited 1`) })));
    expect(folded.map((f) => f.detail)).toEqual(['db1', 'db2', 'db3'].map((h) => `failed: ${h}: command exited 1`));
  });

  it('compares values canonically: key order does not split a fold', () => {
    const folded = foldResults([
      { host: 'x1', result: ok({ a: 1, b: [1, { c: 2, d: 3 }] }) },
      { host: 'x2', result: ok({ b: [1, { d: 3, c: 2 }], a: 1 }) },
      { host: 'x3', result: ok({ a: 1, b: [1, { c: 2, d: 4 }] }) },
    ]);
    expect(folded.map((f) => f.hostText)).toEqual(['x[1-2]', 'x3']);
  });

  it('serial: names the steps not run, once, and the hosts whose batch never started (as the terminal view does)', async () => {
    const lines = await runPlain(abortedSerialRun());
    expect(lines.filter((l) => l.includes('not run'))).toEqual(['↓ [3/3] call restart: not run']);
    expect(lines).toContain('↓ not started: h[3-4] (cancelled: the run stopped before their batch)');
    expect(lines.at(-1)).toBe('run aborted: 1 ok, 1 failed, 0 unreachable, 2 cancelled (4 hosts, 1 changed) in 70ms');
    const quiet = await runPlain(abortedSerialRun(), true);
    expect(quiet.some((l) => l.includes('not run') || l.includes('not started'))).toBe(false);
  });

  it('quiet mode prints only failures and the summary', async () => {
    const lines = await runPlain(fleetRun().events, true);
    expect(lines).toEqual([
      '[1/4] UNREACHABLE web39: unreachable: web39: connection refused (10.0.0.39:22)',
      'run failed: 39 ok, 0 failed, 1 unreachable (40 hosts, 1 changed) in 1.2s',
    ]);
  });

  it('uses no escape codes without colour, and colour only when asked', async () => {
    const plainLines = await runPlain(fleetRun().events);
    // eslint-disable-next-line no-control-regex -- matching escape sequences is the point
    expect(plainLines.join('\n')).not.toMatch(/\u001b\[/);
    const colored = await runPlain(fleetRun().events, false, true);
    // eslint-disable-next-line no-control-regex -- matching escape sequences is the point
    expect(colored.join('\n')).toMatch(/\u001b\[32mok\u001b\[39m web\[01-38,40\]/);
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
  });

  it('never cuts an error message: the advice at the end of a long one stays (plain and quiet)', async () => {
    const msg =
      'web1: HOST KEY CHANGED for [127.0.0.1]:2222: server offered ssh-ed25519 SHA256:Qm9ndXNGaW5nZXJwcmludEZvclRlc3RpbmdPbmx5MDAw, ' +
      'known: ssh-ed25519 SHA256:T2xkRmluZ2VycHJpbnRGb3JUZXN0aW5nT25seTAwMDAw (/home/deploy/.ssh/known_hosts:12). This can be a ' +
      "man-in-the-middle attack. If the change is expected, remove the old line (ssh-keygen -R '[127.0.0.1]:2222' -f " +
      '/home/deploy/.ssh/known_hosts) and add the new key.';
    expect(msg.length).toBeGreaterThan(300);
    const p = plan(['web1'], [step(0, 'call', 'call ping', ['web1'])]);
    const events: RunEvent[] = [
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'call ping', [['web1', err('hostkey_mismatch', msg)]]),
      { type: 'run_finished', status: 'failed', duration_ms: 50, hosts: endStates(['web1'], { web1: 'hostkey_mismatch' }) },
    ];
    expect(await runPlain(events)).toContain(`  UNREACHABLE web1: hostkey_mismatch: ${msg}`);
    expect(await runPlain(events, true)).toContain(`[1/1] UNREACHABLE web1: hostkey_mismatch: ${msg}`);
  });

  it('shows an error message of several lines whole, its later lines indented under it', async () => {
    const p = plan(['a1'], [step(0, 'call', 'call shell', ['a1'])]);
    const lines = await runPlain([
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'call shell', [['a1', err('failed', 'a1: make exited 2: first\nrun ok: 1 ok, 0 failed\nlast')]]),
      { type: 'run_finished', status: 'failed', duration_ms: 50, hosts: endStates(['a1'], { a1: 'failed' }) },
    ]);
    const i = lines.indexOf('  FAILED a1: failed: a1: make exited 2: first');
    expect(i).toBeGreaterThan(0);
    expect(lines.slice(i + 1, i + 3)).toEqual(['      run ok: 1 ok, 0 failed', '      last']);
    expect(lines.filter((l) => l.startsWith('run '))).toHaveLength(1);
  });

  it('cuts a long value, saying so and where the whole value is', async () => {
    const p = plan(['a1'], [step(0, 'call', 'call facts.os', ['a1'])]);
    const lines = await runPlain([
      { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'call facts.os', [['a1', ok({ blob: 'x'.repeat(1000) })]]),
      { type: 'run_finished', status: 'ok', duration_ms: 50, hosts: endStates(['a1'], {}) },
    ]);
    const line = lines.find((l) => l.startsWith('  ok a1: '))!;
    expect(line).toMatch(/… \(\d+ more characters; --json has the whole value\)$/);
    expect(line.length).toBeLessThan(300);
  });

  it('never throws into the executor, even on events it does not expect', () => {
    const out = new Capture();
    const stderr = new Capture();
    const r = new PlainReporter({ out, stderr, color: false });
    expect(() => r.onEvent({ type: 'host_result', step: 9, host: 'zz', result: ok(1) })).not.toThrow();
    expect(() => r.onEvent({ type: 'step_finished', step: 9, status: 'ok', targets: ['zz'] })).not.toThrow();
  });
});

describe('plain reporter in check mode', () => {
  it('shows would_change and unknown hosts, not as failures, and counts them in the summary', async () => {
    const hosts = ['a1', 'a2', 'a3'];
    const p = plan(hosts, [step(0, 'call', 'unpack', hosts), step(1, 'call', 'health', hosts)]);
    const would = {
      ok: true as const,
      value: { would_run: 'command', args: {} },
      changed: true,
      duration_ms: 0,
      outcome: 'would_change' as const,
    };
    const unknown = { ...err('failed', 'a1: test exited 2'), outcome: 'unknown' as const };
    const lines = await runPlain([
      { type: 'run_started', plan: p, check: true, started_at: '2026-01-01T00:00:00.000Z' },
      ...stepEvents(0, 'unpack', [
        ['a1', would],
        ['a2', would],
        ['a3', { ...ok('x'), outcome: 'ok' as const }],
      ]),
      ...stepEvents(1, 'health', [
        ['a1', unknown],
        ['a2', { ...ok(true), outcome: 'ok' as const }],
        ['a3', { ...ok(true), outcome: 'ok' as const }],
      ]),
      { type: 'run_finished', status: 'ok', duration_ms: 50, hosts: endStates(hosts, {}) },
    ]);
    expect(lines).toContain('  would change a[1-2]: {"args":{},"would_run":"command"}');
    expect(lines).toContain('  unknown a1 (may depend on a change not made): failed: a1: test exited 2');
    expect(lines.join('\n')).not.toMatch(/FAILED/);
    expect(lines.at(-1)).toBe('check ok: 3 ok, 0 failed, 0 unreachable (3 hosts, 2 would change, 1 unknown) in 50ms');
  });
});
