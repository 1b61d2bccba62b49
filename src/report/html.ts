/**
 * `chopsticks report REPORT.json --format html`: one self-contained file (inline CSS and script,
 * no fonts, images or requests; a Content-Security-Policy forbids any), with the same content as
 * the Markdown plus a host × step timeline. Everything that comes from the report (host names,
 * messages, values, step names) is escaped; the only script is our own, pinned by its hash.
 * A large fleet stays readable: results fold, the timeline scrolls in a box and filters.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../model/playbook.js';
import { foldHostNames } from '../lang/hostlist.js';
import type { HostResult } from '../run/events.js';
import { labelOf } from './fold.js';
import { skippedText } from './outcomes.js';
import { buildView, durationText, type ReportView, type StepView } from './report-view.js';
import type { RunReport } from './report-types.js';
import { escapeDeep } from './safe.js';
import { diffOfValue, replaceDiff } from './diff-text.js';

/** A value longer than this is shown cut, saying so; the JSON report holds it whole. */
const VALUE_LIMIT = 64 * 1024;

export function renderHtml(raw: RunReport): string {
  const report = escapeDeep(raw);
  const v = buildView(report);
  const r = report;
  const title = `${r.check ? 'Check' : 'Run'} ${r.status}: ${r.playbook}`;
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src '${scriptHash()}'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${headerHtml(v)}
${timelineHtml(v)}
${failuresHtml(v)}
${r.check ? changesHtml(v) : ''}
${stepsHtml(v)}
<footer>Made by <code>chopsticks report --format html</code> from a run report (version ${esc(String(r.version))}); playbook sha256 <code>${esc(r.playbook_sha256)}</code>.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function headerHtml(v: ReportView): string {
  const r = v.report;
  const c = v.hostCounts;
  const chips = [
    `<span class="chip ok">${c.ok} ok</span>`,
    `<span class="chip failed">${c.failed} failed</span>`,
    `<span class="chip unreachable">${c.unreachable} unreachable</span>`,
    c.cancelled ? `<span class="chip cancelled">${c.cancelled} cancelled</span>` : '',
    r.check
      ? `<span class="chip changed">${v.changedHosts.length} would change</span>`
      : `<span class="chip changed">${c.changed} changed</span>`,
  ].join(' ');
  const shard = r.shard ? `<p>Shard ${r.shard.index} of ${r.shard.count}: this report covers that shard's hosts only.</p>` : '';
  const merged = r.merged_from
    ? `<p>Merged from ${r.merged_from.length} shard reports: ${r.merged_from.map((m) => `${m.index}/${m.count} ${esc(m.status)} (${durationText(m.duration_ms)})`).join(', ')}.</p>`
    : '';
  return `<header>
<h1><span class="status s-${esc(r.status)}">${esc(r.check ? 'check' : 'run')} ${esc(r.status)}</span> ${esc(r.playbook || '(unknown playbook)')}</h1>
<p>${plural(c.hosts, 'host')}: ${chips} — ${plural(r.steps.length, 'step')} in ${durationText(r.duration_ms)}, started <time>${esc(r.started_at)}</time></p>
${shard}${merged}
</header>`;
}

// ---- timeline ----------------------------------------------------------------------------

function timelineHtml(v: ReportView): string {
  const steps = v.steps;
  if (!steps.length || !v.hostOrder.length) return '<section id="timeline"><h2>Timeline</h2><p>No host ran a step.</p></section>';
  // A column per step, as wide as its slowest host; a bar per host and step, as long as its result took.
  const maxOf = steps.map((s) => Math.max(1, s.duration?.max ?? 0));
  const total = maxOf.reduce((a, b) => a + b, 0);
  const cols = maxOf.map((m) => `minmax(3.5rem, ${Math.max(1, Math.round((m / total) * 1000))}fr)`).join(' ');
  const head = steps
    .map(
      (s) =>
        `<div class="th" title="${esc(`step ${s.number}: ${s.step.name} (${s.step.status})`)}">${s.number}. ${esc(s.step.name)}<small>${s.duration ? `≤ ${durationText(s.duration.max)}` : 'not run'}</small></div>`,
    )
    .join('');
  const rows: string[] = [];
  for (const host of v.hostOrder) {
    let bad = false as boolean; // `as`: set inside the map callback below
    const cells = steps.map((s, i) => {
      const res: HostResult | undefined = s.step.results[host];
      if (!res) {
        const targeted = s.step.targets.includes(host);
        return `<div class="cell">${targeted ? '<span class="bar none" title="not reached"></span>' : ''}</div>`;
      }
      const label = labelOf(res);
      if (label === 'failed' || label === 'unreachable' || label === 'cancelled') bad = true;
      const pct = Math.max(2, Math.round((res.duration_ms / maxOf[i]!) * 100));
      const mark = label === 'failed' || label === 'unreachable' ? '✖' : label === 'cancelled' ? '⊘' : '';
      const tip = `${host} · step ${s.number} ${s.step.name} · ${label} · ${durationText(res.duration_ms)}${res.ok ? '' : ` · ${res.error.kind}`}`;
      return `<div class="cell"><span class="bar l-${label}" style="width:${pct}%" title="${esc(tip)}">${mark}</span></div>`;
    });
    rows.push(`<div class="row${bad ? ' bad' : ''}" data-host="${esc(host)}"><div class="host">${esc(host)}</div>${cells.join('')}</div>`);
  }
  const many = v.hostOrder.length > 30;
  return `<section id="timeline">
<h2>Timeline <small>(host × step; a bar is as long as that host's result took, relative to the step's slowest host)</small></h2>
<div class="tools"><label>Filter hosts <input id="filter" type="search" placeholder="name contains…"></label>
<label><input id="only-bad" type="checkbox"> only hosts with a failure</label> <span id="shown">${plural(v.hostOrder.length, 'host')}</span></div>
<div class="legend"><span class="bar l-ok"></span>ok <span class="bar l-changed"></span>changed <span class="bar l-skipped"></span>skipped <span class="bar l-failed">✖</span>failed <span class="bar l-unreachable">✖</span>unreachable <span class="bar l-cancelled">⊘</span>cancelled <span class="bar none"></span>not reached</div>
<div class="timeline${many ? ' scroll' : ''}" style="--cols: ${cols}">
<div class="row head"><div class="host">host</div>${head}</div>
${rows.join('\n')}
</div>
</section>`;
}

// ---- failures, changes, steps ------------------------------------------------------------

function hostsText(hosts: string[], text: string): string {
  return hosts.length === 1 ? `<code>${esc(text)}</code>` : `${hosts.length} hosts: <code class="hosts">${esc(text)}</code>`;
}

function failuresHtml(v: ReportView): string {
  if (!v.failures.length) return '';
  const items = v.failures.map(
    (f) => `<article class="failure l-${f.label}">
<h3>Step ${f.stepNumber} · ${esc(f.stepName)} — ${esc(f.label)} on ${hostsText(f.hosts, f.hostText)}</h3>
<pre>${esc(f.detail)}</pre>${f.tb ? `\n<details><summary>traceback</summary><pre>${esc(f.tb)}</pre></details>` : ''}
</article>`,
  );
  return `<section id="failures"><h2>Failures</h2>\n${items.join('\n')}\n</section>`;
}

function changesHtml(v: ReportView): string {
  const changing = v.steps.filter((s) => s.changes);
  if (!changing.length) return '<section id="changes"><h2>What would change</h2><p>Nothing would change.</p></section>';
  const items = changing.map((s) => {
    const c = s.changes!;
    const lines: string[] = [];
    if (c.wouldChange.length) lines.push(`<li>would change: ${hostsText(c.wouldChange, foldHostNames(c.wouldChange))}</li>`);
    if (c.wouldRun.length)
      lines.push(`<li>would run (a mutating step that check mode does not run): ${hostsText(c.wouldRun, foldHostNames(c.wouldRun))}</li>`);
    const diffs = c.diffs.map(
      (d) => `<details><summary>diff on ${hostsText(d.hosts, d.hostText)}</summary>${pre(d.diff, 'diff')}</details>`,
    );
    return `<article><h3>Step ${s.number} · ${esc(s.step.name)}</h3><ul>${lines.join('')}</ul>${diffs.join('\n')}</article>`;
  });
  return `<section id="changes"><h2>What would change (${plural(v.changedHosts.length, 'host')})</h2>\n${items.join('\n')}\n</section>`;
}

function stepsHtml(v: ReportView): string {
  return `<section id="steps"><h2>Steps</h2>\n${v.steps.map((s) => stepHtml(s, v.report.check)).join('\n')}\n</section>`;
}

function stepHtml(s: StepView, check: boolean): string {
  const items: string[] = [];
  const missing = s.step.targets.filter((h) => !s.step.results[h]);
  if (missing.length)
    items.push(`<li class="l-none"><b>not reached</b> (the run stopped first) on ${hostsText(missing, foldHostNames(missing))}</li>`);
  for (const f of s.folds) {
    const detail = f.label === 'skipped' ? `: ${esc(skippedText(f.detail))}` : valueHtml(f.detail, f.label, check);
    items.push(`<li class="l-${f.label}"><b>${esc(f.label)}</b> on ${hostsText(f.hosts, f.hostText)}${detail}</li>`);
  }
  const counts = Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.replace('_', ' ')}`)
    .join(', ');
  const open = s.step.status === 'failed' || s.step.status === 'aborted' ? ' open' : '';
  return `<details class="step st-${esc(s.step.status)}"${open}><summary>${s.number}. ${esc(s.step.name)} <span class="status s-${esc(s.step.status)}">${esc(s.step.status)}</span> <small>${esc(s.step.kind)} on <code>${esc(s.targetText)}</code> — ${esc(counts || 'no results')}${s.duration ? ` — median ${durationText(s.duration.median)}, max ${durationText(s.duration.max)}` : ''}</small></summary>
<ul>${items.join('\n')}</ul></details>`;
}

/** A value as JSON; its `diff` (text) apart, as a diff, or only named in a check run (shown above). */
function valueHtml(canonical: string, cls: string, check: boolean): string {
  let value: Json;
  try {
    value = JSON.parse(canonical) as Json;
  } catch {
    return pre(canonical, cls);
  }
  const diff = diffOfValue(value);
  if (diff === undefined) return pre(JSON.stringify(value, null, 2), cls);
  const shown = pre(JSON.stringify(replaceDiff(value, check ? '(shown under What would change)' : '(below)'), null, 2), cls);
  return check ? shown : `${shown}<details><summary>diff</summary>${pre(diff, 'diff')}</details>`;
}

function pre(text: string, cls: string): string {
  const cut = text.length > VALUE_LIMIT;
  const shown = cut ? text.slice(0, VALUE_LIMIT) : text;
  const note = cut
    ? `<p class="note">(cut at ${VALUE_LIMIT.toLocaleString('en-US')} of ${text.length.toLocaleString('en-US')} characters; the JSON report holds it whole)</p>`
    : '';
  return `<pre class="${esc(cls)}">${esc(shown)}</pre>${note}`;
}

// ---- style and script --------------------------------------------------------------------

const CSS = `
:root { --ok:#2e7d32; --changed:#b26a00; --skipped:#607d8b; --failed:#c62828; --unreachable:#6a1b9a; --cancelled:#455a64; --line:#ddd; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #222; max-width: 110rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line); } h3 { font-size: 1rem; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: .5rem .75rem; overflow: auto; max-height: 30rem; white-space: pre-wrap; word-break: break-word; }
code.hosts { word-break: break-all; }
.status { display: inline-block; padding: 0 .5rem; border-radius: .75rem; color: #fff; background: var(--skipped); font-size: .85em; }
.s-ok { background: var(--ok); } .s-failed, .s-aborted, .s-interrupted { background: var(--failed); } .s-not_run { background: #999; }
.chip { padding: 0 .4rem; border-radius: .5rem; border: 1px solid var(--line); }
.chip.failed { color: var(--failed); } .chip.unreachable { color: var(--unreachable); } .chip.ok { color: var(--ok); } .chip.changed { color: var(--changed); }
.tools { margin: .5rem 0; display: flex; gap: 1.5rem; align-items: center; flex-wrap: wrap; }
.timeline { display: grid; grid-template-columns: minmax(8rem, max-content) var(--cols); border: 1px solid var(--line); }
.timeline.scroll { max-height: 32rem; overflow: auto; }
.row { display: contents; }
.row.head > div { position: sticky; top: 0; background: #fafafa; z-index: 1; font-weight: 600; font-size: 12px; border-bottom: 1px solid var(--line); }
.row.head small { display: block; font-weight: normal; color: #666; }
.row > div { padding: 1px .4rem; border-right: 1px solid #f0f0f0; min-height: 1.1rem; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.row.hidden { display: none; }
.host { font-family: ui-monospace, monospace; font-size: 12px; }
.row.bad .host { color: var(--failed); font-weight: 600; }
.bar { display: block; height: .9rem; margin-top: .1rem; border-radius: 2px; color: #fff; font-size: 10px; line-height: .9rem; text-align: center; overflow: hidden; }
.bar.l-ok { background: var(--ok); } .bar.l-changed { background: var(--changed); } .bar.l-skipped { background: var(--skipped); }
.bar.l-failed { background: var(--failed); } .bar.l-unreachable { background: var(--unreachable); } .bar.l-cancelled { background: var(--cancelled); }
.bar.none { background: repeating-linear-gradient(45deg, #eee, #eee 3px, #ccc 3px, #ccc 6px); width: 100%; }
.failure { border-left: 4px solid var(--failed); padding-left: .75rem; margin: 1rem 0; } .failure.l-unreachable { border-color: var(--unreachable); }
details.step { margin: .3rem 0; border: 1px solid var(--line); border-radius: 4px; padding: .3rem .6rem; }
details.step.st-failed, details.step.st-aborted { border-color: var(--failed); }
details.step summary { cursor: pointer; } details.step small { color: #555; }
li.l-failed > b, li.l-unreachable > b, li.l-cancelled > b { color: var(--failed); } li.l-changed > b { color: var(--changed); } li.l-ok > b { color: var(--ok); }
.note { color: #666; font-style: italic; }
footer { margin-top: 3rem; color: #777; font-size: 12px; }
.legend { font-size: 12px; color: #555; margin-bottom: .5rem; } .legend .bar { display: inline-block; width: 1.5rem; margin: 0 .25rem 0 .75rem; vertical-align: middle; }
`;

// Filters the timeline rows; reads host names from data attributes and never writes HTML.
const SCRIPT = `(function () {
  var filter = document.getElementById('filter');
  var onlyBad = document.getElementById('only-bad');
  var shown = document.getElementById('shown');
  if (!filter || !onlyBad || !shown) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll('.timeline .row[data-host]'));
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = (!q || row.getAttribute('data-host').toLowerCase().indexOf(q) !== -1) && (!onlyBad.checked || row.classList.contains('bad'));
      row.classList.toggle('hidden', !ok);
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' hosts';
  }
  filter.addEventListener('input', apply);
  onlyBad.addEventListener('change', apply);
})();`;

function scriptHash(): string {
  return `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;
}
