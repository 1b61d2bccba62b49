/**
 * `chopsticks report REPORT.json --format markdown`: a pull-request comment or a CI job summary
 * ($GITHUB_STEP_SUMMARY). GitHub refuses a comment over 65,536 characters (a step summary over
 * 1 MiB), so the text is built to a budget: the status and the step table first, then every
 * failure whole, then what a check run would change, then each step's folded results; whatever
 * does not fit is named in words, never cut silently. Long parts are folded in <details>.
 */
import type { Json } from '../model/playbook.js';
import { foldHostNames } from '../lang/hostlist.js';
import type { FoldedResult } from './fold.js';
import { buildView, durationText, type FailureView, type ReportView, type StepView } from './report-view.js';
import type { RunReport } from './report-types.js';
import { escapeDeep } from './safe.js';
import { skippedText } from './outcomes.js';
import { diffOfValue, replaceDiff } from './diff-text.js';

/** GitHub's limit for an issue or pull-request comment body, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Character budget of the whole text; default GITHUB_COMMENT_LIMIT (fits a step summary too). */
  maxChars?: number;
  /** The report file's path, named where something was left out. */
  source?: string;
}

/** A single value or error text longer than this is shown cut, and the cut is said. */
const VALUE_LIMIT = 2_000;
/** Host lists in the step table longer than this are shortened there (in full in the step's details). */
const CELL_HOSTS = 120;

const STATUS_ICON: Record<RunReport['status'], string> = { ok: '✅', failed: '❌', aborted: '⛔', interrupted: '⚠️' };
const STEP_ICON: Record<RunReport['steps'][number]['status'], string> = { ok: '✅', failed: '❌', aborted: '⛔', not_run: '⏭️' };
const LABEL_ICON: Record<FoldedResult['label'], string> = {
  ok: '✅',
  changed: '✏️',
  would_change: '✏️',
  unknown: '❔',
  skipped: '⏭️',
  failed: '❌',
  unreachable: '🔌',
  cancelled: '🚫',
};

export function renderMarkdown(raw: RunReport, opts: MarkdownOptions = {}): string {
  const report = escapeDeep(raw);
  const view = buildView(report);
  const max = opts.maxChars ?? GITHUB_COMMENT_LIMIT;
  const out = new Budget(max);
  const where = opts.source ? `\`${opts.source}\`` : 'the JSON report';

  out.required(header(view));
  out.section(
    '',
    stepTable(view),
    (n) =>
      `\n_${n} more step rows not shown: this text is limited to ${max.toLocaleString('en-US')} characters; every step is in ${where}._\n`,
  );
  if (view.failures.length) {
    out.section(
      `\n### ❌ Failures (${failureCount(view.failures)} host${failureCount(view.failures) === 1 ? '' : 's'})\n`,
      view.failures.map(failureBlock),
      (n) =>
        `\n**${n} more failure group${n === 1 ? '' : 's'} not shown**: this text is limited to ${max.toLocaleString('en-US')} characters. Every failure is in ${where} (render it whole with \`chopsticks report … --format html\`).\n`,
    );
  }
  if (report.check) {
    const changing = view.steps.filter((s) => s.changes);
    out.section(
      `\n### 🔍 What would change (${view.changedHosts.length} host${view.changedHosts.length === 1 ? '' : 's'})\n`,
      changing.length ? changing.map(changeBlock) : ['\nNothing would change.\n'],
      (n) => `\n_${n} more step${n === 1 ? '' : 's'} with changes not shown (size limit); see ${where}._\n`,
    );
  }
  out.section(
    '\n### Steps\n',
    view.steps.map((s) => stepDetails(s, report.check)),
    (n) => `\n_The details of ${n} more step${n === 1 ? '' : 's'} are not shown (size limit); see ${where}._\n`,
  );
  return out.text();
}

// ---- pieces ------------------------------------------------------------------------------

function header(v: ReportView): string {
  const r = v.report;
  const what = r.check ? 'Check (dry run)' : 'Run';
  const lines = [`## ${STATUS_ICON[r.status]} ${what} ${r.status}: ${mdText(r.playbook || '(unknown playbook)')}`, ''];
  const c = v.hostCounts;
  const parts = [`${c.ok} ok`, `${c.failed} failed`, `${c.unreachable} unreachable`];
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  const changed = r.check ? `${v.changedHosts.length} would change` : `${c.changed} changed`;
  lines.push(
    `**${c.hosts} host${c.hosts === 1 ? '' : 's'}**: ${parts.join(' · ')} (${changed}) — ${r.steps.length} step${r.steps.length === 1 ? '' : 's'} in ${durationText(r.duration_ms)}, started ${r.started_at}`,
  );
  if (r.shard)
    lines.push(
      '',
      `Shard ${r.shard.index} of ${r.shard.count} (\`--shard ${r.shard.index}/${r.shard.count}\`): this report covers that shard's hosts only.`,
    );
  if (r.merged_from)
    lines.push(
      '',
      `Merged from ${r.merged_from.length} shard reports (${r.merged_from.map((m) => `${m.index}/${m.count} ${m.status}`).join(', ')}).`,
    );
  return lines.join('\n') + '\n';
}

function stepTable(v: ReportView): string[] {
  if (!v.steps.length) return ['\n_No steps._\n'];
  const rows = ['\n| # | Step | Status | Hosts | Results | Time (median / max) |', '|---:|---|---|---|---|---|'];
  for (const s of v.steps) {
    const hosts =
      s.targetText.length > CELL_HOSTS ? `${s.targetText.slice(0, CELL_HOSTS)}… (${s.step.targets.length} hosts)` : s.targetText;
    const time = s.duration ? `${durationText(s.duration.median)} / ${durationText(s.duration.max)}` : '—';
    rows.push(
      `| ${s.number} | ${cell(s.step.name)} | ${STEP_ICON[s.step.status]} ${s.step.status} | \`${hosts}\` | ${countsText(s)} | ${time} |`,
    );
  }
  // The table is one piece: a table cut in the middle would lose its header.
  return [rows.join('\n') + '\n'];
}

function countsText(s: StepView): string {
  const c = s.counts;
  const parts: string[] = [];
  // A check run's outcomes by their names (docs/language.md#check-mode); `changed` there is a
  // check_mode: run step, which really ran.
  const words = { not_reached: 'not reached', would_change: 'would change' } as Record<string, string>;
  for (const k of ['ok', 'changed', 'would_change', 'unknown', 'skipped', 'failed', 'unreachable', 'cancelled', 'not_reached'] as const) {
    if (c[k]) parts.push(`${c[k]} ${words[k] ?? k}`);
  }
  return parts.join(', ') || '—';
}

function failureCount(fs: FailureView[]): number {
  return new Set(fs.flatMap((f) => f.hosts)).size;
}

function failureBlock(f: FailureView): string {
  const hosts = f.hosts.length === 1 ? `\`${f.hostText}\`` : `${f.hosts.length} hosts: \`${f.hostText}\``;
  const lines = [
    ``,
    `**Step ${f.stepNumber} · ${mdText(f.stepName)}** — ${LABEL_ICON[f.label]} ${f.label} on ${hosts}`,
    '',
    fenced(f.detail, 'text'),
  ];
  if (f.tb) lines.push('', details('traceback', fenced(f.tb, 'text')));
  return lines.join('\n') + '\n';
}

function changeBlock(s: StepView): string {
  const c = s.changes!;
  const lines = ['', `**Step ${s.number} · ${mdText(s.step.name)}**`, ''];
  if (c.wouldChange.length) lines.push(`- would change: \`${foldHostNames(c.wouldChange)}\``);
  if (c.wouldRun.length) lines.push(`- would run (a mutating step that check mode does not run): \`${foldHostNames(c.wouldRun)}\``);
  for (const d of c.diffs) {
    const { text, note } = cut(d.diff);
    lines.push(
      '',
      details(`diff on ${htmlText(d.hostText)} (${d.hosts.length} host${d.hosts.length === 1 ? '' : 's'})`, fenced(text, 'diff') + note),
    );
  }
  return lines.join('\n') + '\n';
}

function stepDetails(s: StepView, check: boolean): string {
  const summary = `${s.number}. ${htmlText(s.step.name)} — ${s.step.status} — ${s.step.targets.length} host${s.step.targets.length === 1 ? '' : 's'}`;
  const body: string[] = [`Targets: \`${s.targetText}\``, ''];
  if (s.counts.not_reached) {
    const missing = s.step.targets.filter((h) => !s.step.results[h]);
    body.push(`- ⏭️ **not reached** (no result: the run stopped first) on \`${foldHostNames(missing)}\``);
  }
  for (const f of s.folds) {
    const head = `- ${LABEL_ICON[f.label]} **${f.label}** on \`${f.hostText}\`${f.hosts.length > 1 ? ` (${f.hosts.length})` : ''}`;
    if (f.label === 'skipped') body.push(`${head}: ${skippedText(f.detail)}`);
    else if (f.label === 'failed' || f.label === 'unreachable' || f.label === 'cancelled') body.push(`${head}: see Failures above`);
    else body.push(`${head}:`, '', indent(valueBlock(f.detail, check)), '');
  }
  return '\n' + details(summary, body.join('\n')) + '\n';
}

/** A value as JSON; its `diff` (text) apart, as a diff, or only named in a check run (shown above). */
function valueBlock(canonical: string, check: boolean): string {
  let value: Json;
  try {
    value = JSON.parse(canonical) as Json;
  } catch {
    return fenced(canonical);
  }
  const diff = diffOfValue(value);
  let diffPart = '';
  if (diff !== undefined) {
    value = replaceDiff(value, check ? '(shown under What would change)' : '(below)');
    if (!check) {
      const d = cut(diff);
      diffPart = '\n\n' + details('diff', fenced(d.text, 'diff') + d.note);
    }
  }
  const { text, note } = cut(JSON.stringify(value, null, 2));
  return fenced(text, 'json') + note + diffPart;
}

function cut(text: string): { text: string; note: string } {
  if (text.length <= VALUE_LIMIT) return { text, note: '' };
  return {
    text: text.slice(0, VALUE_LIMIT),
    note: `\n_(cut at ${VALUE_LIMIT.toLocaleString('en-US')} of ${text.length.toLocaleString('en-US')} characters; the whole value is in the JSON report)_`,
  };
}

// ---- Markdown helpers --------------------------------------------------------------------

function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

/** A code block whose fence is longer than any run of backticks inside, so content cannot close it. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\r\n?/g, '\n').replace(/\n$/, '')}\n${fence}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}

/** Text from a playbook or a host in a Markdown line: no markup, no HTML. */
export function mdText(text: string): string {
  return htmlText(text.replace(/\s+/g, ' ')).replace(/([\\`*_[\]{}()#+!|~>-])/g, '\\$1');
}

function cell(text: string): string {
  return mdText(text);
}

export function htmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Text assembled to a character budget. A section adds its pieces in order while they fit
 * (keeping room for the note that says what was left out); the first piece that does not fit
 * ends the section, and its note is written instead.
 */
class Budget {
  private parts: string[] = [];
  private used = 0;
  /** Room kept for the notes of later sections. */
  private static readonly NOTE_ROOM = 600;

  constructor(private readonly max: number) {}

  required(text: string): void {
    this.push(text.length > this.max - Budget.NOTE_ROOM ? text.slice(0, this.max - Budget.NOTE_ROOM) + '…\n' : text);
  }

  section(title: string, pieces: string[], note: (left: number) => string): void {
    if (!pieces.length) return;
    const room = () => this.max - this.used - Budget.NOTE_ROOM;
    if (title.length + pieces[0]!.length > room()) {
      const n = note(pieces.length);
      if (title.length + n.length <= this.max - this.used) this.push(title + n);
      return;
    }
    this.push(title);
    for (let i = 0; i < pieces.length; i++) {
      if (pieces[i]!.length > room()) {
        this.push(note(pieces.length - i));
        return;
      }
      this.push(pieces[i]!);
    }
  }

  text(): string {
    return this.parts.join('');
  }

  private push(t: string): void {
    this.parts.push(t);
    this.used += t.length;
  }
}
