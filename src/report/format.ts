/** Small text helpers shared by the human reporters (plain, quiet, tty). */
import type { HostEndState, RunStatus } from '../run/events.js';
import { isErrorLabel, type FoldedResult } from './fold.js';
import type { CheckCounts } from './outcomes.js';
import { escapeControls, escapeOneLine } from './safe.js';

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

/** Values longer than this are cut in human output (the run report keeps them whole). */
export const VALUE_MAX = 200;

/**
 * One line of a host's value, escaped. A long value is cut, saying so, so that one host cannot
 * flood the screen; error messages are never cut (formatFolded).
 */
export function shortenValue(text: string, max = VALUE_MAX): string {
  const one = escapeOneLine(text);
  // Cutting a few characters would save less than the note about it costs.
  if (one.length <= max * 1.5) return one;
  return `${one.slice(0, max)}… (${one.length - max} more characters; --json has the whole value)`;
}

/** Host text for a single line (the live view), escaped, newlines shown as `\n`. */
export function oneLine(text: string, max: number): string {
  const one = escapeOneLine(text);
  return one.length <= max ? one : `${one.slice(0, Math.max(0, max - 1))}…`;
}

/** Bytes per second for a transfer, or '' while too little time has passed to say. */
export function humanRate(bytes: number, ms: number): string {
  if (ms < 50 || bytes <= 0) return '';
  return `${humanBytes(Math.round((bytes * 1000) / ms))}/s`;
}

const LABEL_TEXT: Record<FoldedResult['label'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipped',
  would_change: 'would change',
  unknown: 'unknown',
  failed: 'FAILED',
  unreachable: 'UNREACHABLE',
  cancelled: 'CANCELLED',
};

/**
 * `ok web[01-38]: "pong"` / `FAILED web39: failed: ...` / `skipped web1 (check mode)`.
 * An error message is shown whole: a message of several lines gives several lines, the later
 * ones indented (so no line of a host's message can pass for a line of ours). Host text is escaped.
 */
export function formatFolded(f: FoldedResult, paint: Paint): string[] {
  const style =
    f.label === 'ok'
      ? 'green'
      : f.label === 'changed' || f.label === 'would_change'
        ? 'yellow'
        : f.label === 'skipped' || f.label === 'unknown'
          ? 'cyan'
          : 'red';
  const head = `${paint(style, LABEL_TEXT[f.label])} ${f.hostText}`;
  if (f.label === 'skipped') return [`${head} (${f.detail === 'when' ? 'when is false' : 'check mode'})`];
  if (f.label === 'unknown') return [`${head} (may depend on a change not made): ${shortenValue(f.detail)}`];
  if (!isErrorLabel(f.label)) return [`${head}: ${shortenValue(f.detail)}`];
  const [first = '', ...rest] = escapeControls(f.detail).replace(/\n+$/, '').split('\n');
  return [`${head}: ${first}`, ...rest.map((l) => `    ${l}`)];
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
export function formatSummary(status: RunStatus, c: SummaryCounts, durationMs: number, paint: Paint, check?: CheckCounts): string {
  const style = status === 'ok' ? 'green' : 'red';
  const cancelled = c.cancelled > 0 ? `, ${c.cancelled} cancelled` : '';
  const hosts = `${c.hosts} host${c.hosts === 1 ? '' : 's'}`;
  // `changed` overlaps the end states (a changed host is also ok or failed), so it stands apart.
  const changed = check ? `${check.would_change} would change, ${check.unknown} unknown` : `${c.changed} changed`;
  return (
    `${paint(style, `${check ? 'check' : 'run'} ${status}`)}: ${c.ok} ok, ${c.failed} failed, ${c.unreachable} unreachable${cancelled} ` +
    `(${hosts}, ${changed}) in ${humanDuration(durationMs)}`
  );
}
