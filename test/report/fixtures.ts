/** Synthetic plans and event sequences, shaped as the executor emits them. */
import type { Plan, PlanStep } from '../../src/compile/plan-types.js';
import type { HostSpec, Json } from '../../src/model/playbook.js';
import type { StepKind } from '../../src/steps/index.js';
import type { HostResult, RunEvent } from '../../src/run/events.js';
import type { ErrorKind } from '../../src/errors.js';
import { endStateOf } from '../../src/errors.js';

const pos = { file: 'pb.yaml', line: 1, col: 1 };

export function host(name: string): HostSpec {
  return { name, transport: 'local', vars: {}, pos };
}

export function step(index: number, kind: StepKind, name: string, targets: string[], extra: Partial<PlanStep> = {}): PlanStep {
  const base = {
    index,
    name,
    on: { type: 'name' as const, name: 'all', pos: 0 },
    onText: 'all',
    targets: { lower: targets, upper: targets },
    policy: { on_failure: 'continue' as const, retries: 0, retry_delay_ms: 0 },
    pos,
  };
  switch (kind) {
    case 'call':
      return { ...base, kind, callable: name.replace(/^call /, ''), readonly: true, args: {}, ...extra } as PlanStep;
    case 'filter':
      return { ...base, kind, callable: 'test', readonly: true, args: {}, exclude: false, as: 'picked', ...extra } as PlanStep;
    case 'put':
      return { ...base, kind, src: 'a.tgz', to: '/tmp/', mode: 0o644, ...extra } as PlanStep;
    case 'fetch':
      return { ...base, kind, src: '/etc/hostname', to: 'out/{host}', ...extra } as PlanStep;
    default:
      return { ...base, kind, ...extra } as PlanStep;
  }
}

export function plan(hosts: string[], steps: PlanStep[], extra: Partial<Plan> = {}): Plan {
  return {
    version: 1,
    playbook: 'playbooks/deploy.yaml',
    playbook_sha256: 'a'.repeat(64),
    name: 'Deploy',
    baseDir: '/tmp',
    vars: {},
    hosts: hosts.map(host),
    groups: [{ name: 'all', source: 'static', hosts: { lower: hosts, upper: hosts } }],
    strategy: 'linear',
    steps,
    callables: {},
    ...extra,
  };
}

export const ok = (value: Json, changed = false, duration_ms = 5): HostResult => ({ ok: true, value, changed, duration_ms });
export const skipped = (): HostResult => ({ ok: true, value: null, changed: false, duration_ms: 0, skipped: true });
export const err = (kind: ErrorKind, msg: string, duration_ms = 7): HostResult => ({
  ok: false,
  error: { kind, msg, tb: null },
  duration_ms,
});

/** One linear step: started, a result per host (in the given order), finished. */
export function stepEvents(
  index: number,
  name: string,
  results: Array<[string, HostResult]>,
  targets = results.map((r) => r[0]),
): RunEvent[] {
  const evs: RunEvent[] = [{ type: 'step_started', step: index, name, targets }];
  for (const [h, r] of results) {
    evs.push({ type: 'host_started', step: index, host: h, attempt: 1 });
    evs.push({ type: 'host_result', step: index, host: h, result: r });
  }
  const failed = results.some(([, r]) => !r.ok);
  evs.push({ type: 'step_finished', step: index, status: failed ? 'failed' : 'ok', targets });
  return evs;
}

export function endStates(
  hosts: string[],
  failures: Record<string, ErrorKind>,
): Record<string, 'ok' | 'failed' | 'unreachable' | 'cancelled'> {
  const out: Record<string, 'ok' | 'failed' | 'unreachable' | 'cancelled'> = {};
  for (const h of hosts) {
    const k = failures[h];
    out[h] = k === undefined ? 'ok' : endStateOf({ kind: k });
  }
  return out;
}

export const web40 = Array.from({ length: 40 }, (_, i) => `web${String(i + 1).padStart(2, '0')}`);

/**
 * 40 web hosts: ping (web39 unreachable), a shell command with stderr from web07 (web39
 * dropped), a put skipped in check mode on web01 only... and a filter and a step not run.
 */
export function fleetRun(): { plan: Plan; events: RunEvent[] } {
  const p = plan(
    web40,
    [
      step(0, 'call', 'call ping', web40),
      step(1, 'call', 'call shell', web40),
      step(2, 'filter', 'filter test', web40, { as: 'systemd_hosts' }),
      step(3, 'put', 'put app.tgz', web40),
    ],
    {
      groups: [
        { name: 'all', source: 'static', hosts: { lower: web40, upper: web40 } },
        { name: 'web', source: 'static', hosts: { lower: web40, upper: web40 } },
        { name: 'systemd_hosts', source: 'filter', hosts: { lower: [], upper: web40 }, step: 2 },
      ],
    },
  );
  const rest = web40.filter((h) => h !== 'web39');
  const events: RunEvent[] = [
    { type: 'run_started', plan: p, check: false, started_at: '2026-11-23T10:00:00.000Z' },
    { type: 'batch_started', batch: 0, hosts: web40 },
    ...stepEvents(
      0,
      'call ping',
      web40.map((h): [string, HostResult] => [
        h,
        h === 'web39' ? err('unreachable', `web39: connection refused (10.0.0.39:22)`) : ok('pong'),
      ]),
    ),
  ];
  // step 1 with stderr arriving in pieces, interleaved between hosts
  events.push({ type: 'step_started', step: 1, name: 'call shell', targets: rest });
  events.push({ type: 'host_stderr', step: 1, host: 'web07', text: 'warning: disk ' });
  events.push({ type: 'host_stderr', step: 1, host: 'web08', text: 'hello from 08\n' });
  events.push({ type: 'host_stderr', step: 1, host: 'web07', text: 'almost full\nsecond line' });
  for (const h of rest) events.push({ type: 'host_result', step: 1, host: h, result: ok({ rc: 0, stdout: 'x' }, h === 'web01') });
  events.push({ type: 'step_finished', step: 1, status: 'ok', targets: rest });
  events.push(
    ...stepEvents(
      2,
      'filter test',
      rest.map((h): [string, HostResult] => [h, ok(h !== 'web02')]),
    ),
  );
  events.push({ type: 'group_decided', group: 'systemd_hosts', hosts: rest.filter((h) => h !== 'web02') });
  events.push({ type: 'step_finished', step: 3, status: 'not_run', targets: [] });
  events.push({ type: 'run_finished', status: 'failed', duration_ms: 1234, hosts: endStates(web40, { web39: 'unreachable' }) });
  return { plan: p, events };
}

/** serial: 2 over h1-h4: batch 1's put fails on h2 and aborts; step 3 and batch 2 never run. */
export function abortedSerialRun(): RunEvent[] {
  const hosts = ['h1', 'h2', 'h3', 'h4'];
  const p = plan(
    hosts,
    [step(0, 'call', 'call ping', hosts), step(1, 'put', 'put app.tgz', hosts), step(2, 'call', 'call restart', hosts)],
    { serial: [{ count: 2 }] },
  );
  return [
    { type: 'run_started', plan: p, check: false, started_at: '2026-01-01T00:00:00.000Z' },
    { type: 'batch_started', batch: 0, hosts: ['h1', 'h2'] },
    ...stepEvents(0, 'call ping', [
      ['h1', ok('pong')],
      ['h2', ok('pong')],
    ]),
    { type: 'step_started', step: 1, name: 'put app.tgz', targets: ['h1', 'h2'] },
    { type: 'host_result', step: 1, host: 'h1', result: ok({ changed: true }, true) },
    { type: 'host_result', step: 1, host: 'h2', result: err('remote_io', 'h2: disk full') },
    { type: 'step_finished', step: 1, status: 'aborted', targets: ['h1', 'h2'] },
    { type: 'step_finished', step: 2, status: 'not_run', targets: [] },
    // the second batch never starts
    { type: 'step_finished', step: 0, status: 'not_run', targets: [] },
    { type: 'step_finished', step: 1, status: 'not_run', targets: [] },
    { type: 'step_finished', step: 2, status: 'not_run', targets: [] },
    {
      type: 'run_finished',
      status: 'aborted',
      duration_ms: 70,
      hosts: endStates(hosts, { h2: 'remote_io', h3: 'cancelled', h4: 'cancelled' }),
    },
  ];
}
