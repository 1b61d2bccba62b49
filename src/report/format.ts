/** Small text helpers shared by the human reporters (plain, quiet, listr). */
import type { HostEndState, RunStatus } from '../run/events.js';
import type { FoldedResult } from './fold.js';

/**
 * Colour only for a terminal, unless the user says otherwise: NO_COLOR (any value) turns it
 * off, FORCE_COLOR turns it on ('0' / 'false' off), an explicit option wins over both.
 */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, explicit?: boolean): boolean {
  if (explicit !== undefined) return explicit;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export type Paint = (style: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string) => string;

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], dim: [2, 22], bold: [1, 22] } as const;

export function painter(color: boolean): Paint {
  if (!color) return (_s, t) => t;
  return (s, t) => `\u001b[${CODES[s][0]}m${t}\u001b[${CODES[s][1]}m`;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - m * 60)
    .toString()
    .padStart(2, '0')}s`;
}

/** One line of a value; long values are cut so one host cannot flood the log. */
export function shorten(text: string, max = 200): string {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 3)}...`;
}

const LABEL_TEXT: Record<FoldedResult['label'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipped',
  failed: 'FAILED',
  unreachable: 'UNREACHABLE',
  cancelled: 'CANCELLED',
};

/** `ok web[01-38]: "pong"` / `FAILED web39: failed: ...` / `skipped web1 (check mode)` */
export function formatFolded(f: FoldedResult, paint: Paint): string {
  const style = f.label === 'ok' ? 'green' : f.label === 'changed' ? 'yellow' : f.label === 'skipped' ? 'cyan' : 'red';
  const head = `${paint(style, LABEL_TEXT[f.label])} ${f.hostText}`;
  if (f.label === 'skipped') return `${head} (${f.detail === 'when' ? 'when is false' : 'check mode'})`;
  return `${head}: ${shorten(f.detail)}`;
}

export interface SummaryCounts {
  hosts: number;
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  cancelled: number;
}

export function countHosts(end: Record<string, HostEndState>, changedHosts: ReadonlySet<string>): SummaryCounts {
  const c: SummaryCounts = { hosts: 0, ok: 0, changed: 0, failed: 0, unreachable: 0, cancelled: 0 };
  for (const [host, state] of Object.entries(end)) {
    c.hosts++;
    c[state]++;
    if (changedHosts.has(host)) c.changed++;
  }
  return c;
}

/** `run failed: 39 ok, 3 changed, 1 failed, 0 unreachable (40 hosts) in 1.2s` — one grep-able line. */
export function formatSummary(status: RunStatus, c: SummaryCounts, durationMs: number, paint: Paint): string {
  const style = status === 'ok' ? 'green' : 'red';
  const cancelled = c.cancelled > 0 ? `, ${c.cancelled} cancelled` : '';
  const hosts = `${c.hosts} host${c.hosts === 1 ? '' : 's'}`;
  // `changed` overlaps the end states (a changed host is also ok or failed), so it stands apart.
  return (
    `${paint(style, `run ${status}`)}: ${c.ok} ok, ${c.failed} failed, ${c.unreachable} unreachable${cancelled} ` +
    `(${hosts}, ${c.changed} changed) in ${humanDuration(durationMs)}`
  );
}
