/** Run reports made directly (as `run --json` writes them), for the report renderers and merge. */
import type { HostResult } from '../../src/run/events.js';
import type { ReportStep, RunReport } from '../../src/report/report-types.js';

export function hostNames(prefix: string, n: number, pad = 3): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(pad, '0')}`);
}

export function reportOf(
  steps: Array<Omit<ReportStep, 'index' | 'kind' | 'status'> & Partial<ReportStep>>,
  extra: Partial<RunReport> = {},
): RunReport {
  const full: ReportStep[] = steps.map((s, index) => ({
    index,
    kind: 'call',
    status: Object.values(s.results).some((r) => !r.ok) ? 'failed' : 'ok',
    ...s,
  }));
  const hosts: RunReport['hosts'] = {};
  for (const s of full) {
    for (const h of s.targets) {
      const r = s.results[h];
      if (!(h in hosts)) hosts[h] = 'ok';
      if (r && !r.ok) hosts[h] = r.error.kind === 'unreachable' ? 'unreachable' : r.error.kind === 'cancelled' ? 'cancelled' : 'failed';
    }
  }
  return {
    version: 1,
    playbook: 'playbooks/deploy.yaml',
    playbook_sha256: 'b'.repeat(64),
    status: Object.values(hosts).every((s) => s === 'ok') ? 'ok' : 'failed',
    check: false,
    started_at: '2026-11-27T10:00:00.000Z',
    duration_ms: 1234,
    groups: {},
    steps: full,
    hosts,
    ...extra,
  };
}

export function resultsFor(hosts: string[], f: (h: string, i: number) => HostResult): Record<string, HostResult> {
  return Object.fromEntries(hosts.map((h, i) => [h, f(h, i)]));
}

export const okv = (value: HostResult extends never ? never : unknown, duration_ms = 10, changed = false): HostResult =>
  ({ ok: true, value, changed, duration_ms }) as HostResult;
export const fail = (
  kind: 'failed' | 'unreachable' | 'timeout' | 'cancelled',
  msg: string,
  duration_ms = 20,
  tb: string | null = null,
): HostResult => ({
  ok: false,
  error: { kind, msg, tb },
  duration_ms,
});
