/**
 * `--output tty`: the terminal view, a task list in listr2's style (a mark per step, the hosts
 * under it), drawn in two parts:
 *
 *   ❯ batch 2: web2                                          (serial only)
 *     ✔ [1/3] call ping on web2 12ms
 *         ok web2: "pong"
 *     ✖ [2/3] restart on web2 40ms: 1 failed, aborted the run
 *         FAILED web2: failed: web2: shell `...` exited 1: whole message, never cut
 *         web2 | a line of its stderr
 *   ⠹ [3/3] put app.tgz  2/5 hosts done  1.2s              ┐ live region: redrawn in
 *       web3 1.1s  3.0 MiB / 5.0 MiB  9.8 MiB/s            ┘ place, cut to the width
 *
 * Lines above the live region are written once, when a step finishes, and never drawn over,
 * so the screen ends holding every step, every batch, every failed host's whole message and
 * the summary line, at any width. Events only change state; drawing happens on a timer, at
 * most once per FRAME_MS, so the executor never waits for the terminal and a burst of
 * progress events costs one frame.
 */
import type { Plan } from '../compile/plan-types.js';
import { foldHostNames } from '../lang/hostlist.js';
import type { HostResult, Reporter, RunEvent, StepStatus } from '../run/events.js';
import { ReportBuilder } from './build-report.js';
import { diffLines, withoutDiff } from './diff-text.js';
import { foldResults } from './fold.js';
import { countHosts, formatFolded, formatSummary, humanBytes, humanDuration, humanRate, oneLine, painter, type Paint } from './format.js';
import { LineBuffers } from './line-buffer.js';
import { LiveRegion } from './live-region.js';
import { NOT_STARTED_NOTE, NotRunTracker } from './not-run.js';
import { escapeControls, reportFailure } from './safe.js';

export interface TtyReporterOptions {
  /** Where the view is drawn (stderr when the JSON report takes stdout). */
  out: NodeJS.WritableStream & { columns?: number; rows?: number };
  /** Where the reporter's own failures are said. */
  stderr: NodeJS.WritableStream;
  color: boolean;
  /** Time between frames (ms). */
  frameMs?: number;
}

const FRAME_MS = 100;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Stderr lines held per step to print under it; past this they are printed as they come. */
const STDERR_HOLD = 200;
/** Live lines at most, whatever the terminal's height. */
const LIVE_MAX = 12;

interface HostLive {
  started: number;
  attempt: number;
  bytes: number;
  total: number | null;
  /** When the first byte count came, and that count: the rate is measured from there. */
  firstProgress?: { t: number; bytes: number };
  lastStderr?: string;
}

interface StepView {
  index: number;
  name: string;
  started: number;
  targets: string[];
  running: Map<string, HostLive>;
  results: Array<{ host: string; result: HostResult }>;
  failed: number;
  /** Hosts whose operation an interrupt stopped (error kind `cancelled`): not failures. */
  cancelled: number;
  /** Bytes each host moved (put / fetch). */
  bytes: Map<string, number>;
  /** Printed under the step when it finishes: stderr, retries. */
  extra: string[];
  /** More stderr than STDERR_HOLD: the step's stderr is printed as it comes. */
  spilled: boolean;
}

export class TtyReporter implements Reporter {
  private readonly paint: Paint;
  private readonly state = new ReportBuilder();
  private readonly stderrLines = new LineBuffers();
  private readonly live: LiveRegion;
  private plan: Plan | undefined;
  private readonly steps = new Map<number, StepView>();
  /** Lines to write above the live region at the next frame. */
  private pending: string[] = [];
  private serial = false;
  private readonly notRun = new NotRunTracker();
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private done = false;

  constructor(private readonly opts: TtyReporterOptions) {
    this.paint = painter(opts.color);
    this.live = new LiveRegion(opts.out);
  }

  onEvent(ev: RunEvent): void {
    try {
      this.state.onEvent(ev);
      this.handle(ev);
    } catch (e) {
      reportFailure(this.opts.stderr, 'terminal output', e);
    }
  }

  notice(line: string): boolean {
    // Drawn here only when stderr is this same screen; a redirected stderr gets it as it is.
    if (this.done || !(this.opts.stderr as { isTTY?: boolean }).isTTY) return false;
    this.pending.push(escapeControls(line));
    this.frame();
    return true;
  }

  async close(): Promise<void> {
    try {
      this.finish(undefined);
    } catch (e) {
      reportFailure(this.opts.stderr, 'terminal output', e);
    }
  }

  private handle(ev: RunEvent): void {
    const p = this.paint;
    const now = performance.now();
    switch (ev.type) {
      case 'run_started': {
        this.plan = ev.plan;
        this.serial = ev.plan.serial !== undefined;
        const title = ev.plan.name ? `${ev.plan.name} (${ev.plan.playbook})` : ev.plan.playbook;
        const n = ev.plan.hosts.length;
        const s = ev.plan.steps.length;
        this.pending.push(
          `${p('bold', title)}: ${n} host${n === 1 ? '' : 's'}, ${s} step${s === 1 ? '' : 's'}${ev.check ? ', check mode' : ''}`,
        );
        this.timer = setInterval(() => this.frame(), this.opts.frameMs ?? FRAME_MS);
        // Never what keeps the process alive: the run is.
        this.timer.unref();
        return;
      }
      case 'batch_started':
        this.notRun.batchStarted(ev.hosts);
        if (this.serial) this.pending.push(`${p('yellow', '❯')} ${p('bold', `batch ${ev.batch + 1}`)}: ${foldHostNames(ev.hosts)}`);
        return;
      case 'step_started':
        this.steps.set(ev.step, {
          index: ev.step,
          name: ev.name,
          started: now,
          targets: ev.targets,
          running: new Map(),
          results: [],
          failed: 0,
          cancelled: 0,
          bytes: new Map(),
          extra: [],
          spilled: false,
        });
        return;
      case 'host_started': {
        const sv = this.steps.get(ev.step);
        if (!sv) return;
        const prev = sv.running.get(ev.host);
        sv.running.set(ev.host, { started: prev?.started ?? now, attempt: ev.attempt, bytes: 0, total: null });
        if (ev.attempt > 1) sv.extra.push(`${p('yellow', 'retry')} ${ev.host}: attempt ${ev.attempt}`);
        return;
      }
      case 'host_progress': {
        const sv = this.steps.get(ev.step);
        const hl = sv?.running.get(ev.host);
        if (!sv || !hl) return;
        hl.bytes = ev.bytes;
        hl.total = ev.total;
        hl.firstProgress ??= { t: now, bytes: ev.bytes };
        sv.bytes.set(ev.host, ev.bytes);
        return;
      }
      case 'host_stderr': {
        const sv = this.steps.get(ev.step);
        for (const line of this.stderrLines.push(stderrKey(ev.step, ev.host), ev.text)) this.stderrLine(sv, ev.host, line);
        return;
      }
      case 'host_result': {
        const sv = this.steps.get(ev.step);
        const rest = this.stderrLines.flush(stderrKey(ev.step, ev.host));
        if (rest !== undefined) this.stderrLine(sv, ev.host, rest);
        if (!sv) return;
        sv.running.delete(ev.host);
        sv.results.push({ host: ev.host, result: ev.result });
        if (!ev.result.ok) {
          if (ev.result.error.kind === 'cancelled') sv.cancelled++;
          else sv.failed++;
        }
        return;
      }
      case 'step_finished':
        this.stepFinished(ev.step, ev.status, ev.targets, false, ev.stopped_by === 'signal');
        return;
      case 'group_decided': {
        // Under the filter step that decided it, while that step is still open.
        const line = `group ${ev.group} = ${ev.hosts.length > 0 ? foldHostNames(ev.hosts) : '(empty)'}`;
        const by = [...this.steps.values()].find((sv) => {
          const st = this.plan?.steps[sv.index];
          return st?.kind === 'filter' && st.as === ev.group;
        });
        if (by) by.extra.push(line);
        else this.pending.push(`${this.indent}    ${line}`);
        return;
      }
      case 'warning':
        this.pending.push(
          `${p('yellow', 'warning')}: ${ev.host !== undefined ? `${ev.host}: ` : ''}${escapeControls(ev.message).replace(/\n/g, '\n    ')}`,
        );
        return;
      case 'run_finished':
        this.finish(ev);
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  private get indent(): string {
    return this.serial ? '  ' : '';
  }

  private stepLabel(index: number, name: string): string {
    return `[${index + 1}/${this.plan?.steps.length ?? '?'}] ${oneLine(name, 200)}`;
  }

  private stderrLine(sv: StepView | undefined, host: string, line: string): void {
    const text = `${this.paint('dim', `${host} |`)} ${escapeControls(line)}`;
    if (!sv) {
      this.pending.push(`${this.indent}${text}`);
      return;
    }
    const hl = sv.running.get(host);
    if (hl) hl.lastStderr = line;
    if (sv.spilled) {
      this.pending.push(`${this.indent}  ${text}`);
      return;
    }
    sv.extra.push(text);
    if (sv.extra.length > STDERR_HOLD) {
      // Too much to hold until the step ends: from now on it is printed as it comes, under a
      // line that says which step it belongs to.
      sv.spilled = true;
      this.pending.push(`${this.indent}${this.paint('yellow', '❯')} ${this.stepLabel(sv.index, sv.name)}: output so far`);
      for (const l of sv.extra) this.pending.push(`${this.indent}    ${l}`);
      sv.extra = [];
    }
  }

  /** `cut`: the run ended (or the reporter was closed) before the step finished. */
  private stepFinished(index: number, status: StepStatus, targets: string[], cut = false, bySignal = false): void {
    const p = this.paint;
    const sv = this.steps.get(index);
    this.steps.delete(index);
    const ind = this.indent;
    if (!sv) {
      // A second report of the same step in one batch is a batch that never started; its hosts
      // are named once, at the end.
      if (!this.notRun.firstInBatch(index)) return;
      const name = this.plan?.steps[index]?.name ?? `step ${index + 1}`;
      this.pending.push(`${ind}${p('yellow', '↓')} ${this.stepLabel(index, name)}: ${p('yellow', 'not run')}`);
      return;
    }
    this.notRun.firstInBatch(index);
    const ms = performance.now() - sv.started;
    const ran = targets.length > 0 ? targets : sv.results.map((r) => r.host);
    let mark: string;
    if (status === 'not_run') mark = p('yellow', '↓');
    else if (status === 'ok') mark = ran.length === 0 ? p('yellow', '↓') : p('green', '✔');
    else mark = p('red', '✖');
    const on = ran.length > 0 ? ` on ${foldHostNames(ran)}` : `: ${p('yellow', 'no host to run on')}`;
    let moved = 0;
    for (const b of sv.bytes.values()) moved += b;
    const facts = [humanDuration(ms), moved > 0 ? `${humanBytes(moved)} at ${humanRate(moved, ms) || '—'}` : ''].filter(Boolean).join(', ');
    const notes = [
      sv.failed > 0 ? `${sv.failed} failed` : '',
      sv.cancelled > 0 ? `${sv.cancelled} cancelled` : '',
      cut ? 'did not finish' : status === 'aborted' ? (bySignal ? 'stopped by the interrupt' : 'aborted the run') : '',
      status === 'not_run' ? 'not run' : '',
    ]
      .filter(Boolean)
      .join(', ');
    this.pending.push(`${ind}${mark} ${this.stepLabel(index, sv.name)}${on} ${p('dim', facts)}${notes ? `: ${p('red', notes)}` : ''}`);
    const order = this.plan?.hosts.map((h) => h.name);
    for (const f of foldResults(
      sv.results.map((e) => ({ host: e.host, result: withoutDiff(e.result) })),
      order,
    )) {
      for (const line of formatFolded(f, p)) this.pending.push(`${ind}    ${line}`);
    }
    const rank = new Map((order ?? []).map((h, i) => [h, i]));
    const diffs = diffLines(
      [...sv.results].sort((a, b) => (rank.get(a.host) ?? 0) - (rank.get(b.host) ?? 0)),
      `${ind}    `,
    );
    for (const line of diffs) this.pending.push(escapeControls(line));
    for (const line of sv.extra) this.pending.push(`${ind}    ${line}`);
  }

  /** Draws one frame: what finished since the last one, then the live lines. */
  private frame(): void {
    try {
      if (this.done) return;
      this.tick++;
      const out = this.pending;
      this.pending = [];
      this.live.frame(out, this.liveLines());
    } catch (e) {
      reportFailure(this.opts.stderr, 'terminal output', e);
    }
  }

  private liveLines(): string[] {
    const p = this.paint;
    const now = performance.now();
    const room = Math.max(1, Math.min(LIVE_MAX, this.live.height() - 2));
    const width = this.live.columns();
    const lines: string[] = [];
    const spin = p('yellow', SPINNER[this.tick % SPINNER.length]!);
    const steps = [...this.steps.values()].sort((a, b) => a.index - b.index);
    for (const [i, sv] of steps.entries()) {
      if (lines.length >= room) break;
      const done = sv.results.length;
      const failed = sv.failed > 0 ? `, ${p('red', `${sv.failed} failed`)}` : '';
      lines.push(
        `${this.indent}${spin} ${this.stepLabel(sv.index, sv.name)}  ${p('dim', `${done}/${sv.targets.length} hosts done`)}${failed}  ${p('dim', humanDuration(now - sv.started))}`,
      );
      // Leave a row for each step still to list.
      const hostRoom = room - lines.length - (steps.length - i - 1);
      const running = [...sv.running.entries()];
      const shown = running.length > hostRoom ? Math.max(0, hostRoom - 1) : running.length;
      for (const [host, hl] of running.slice(0, shown)) lines.push(`${this.indent}    ${this.hostLive(host, hl, now, width)}`);
      if (shown < running.length && hostRoom > 0)
        lines.push(`${this.indent}    ${p('dim', `… and ${running.length - shown} more running`)}`);
    }
    return lines;
  }

  private hostLive(host: string, hl: HostLive, now: number, width: number): string {
    const p = this.paint;
    let s = `${host} ${p('dim', humanDuration(now - hl.started))}`;
    if (hl.attempt > 1) s += ` ${p('yellow', `attempt ${hl.attempt}`)}`;
    if (hl.firstProgress) {
      const rate = humanRate(hl.bytes - hl.firstProgress.bytes, now - hl.firstProgress.t);
      s += `  ${humanBytes(hl.bytes)}${hl.total !== null ? ` / ${humanBytes(hl.total)}` : ''}${rate ? `  ${rate}` : ''}`;
    }
    if (hl.lastStderr !== undefined) s += `  ${p('dim', '|')} ${oneLine(hl.lastStderr, width)}`;
    return s;
  }

  /** The last frame: no live lines, then warnings and the summary line. Later events are written as they come. */
  private finish(ev: Extract<RunEvent, { type: 'run_finished' }> | undefined): void {
    if (this.done) {
      if (this.pending.length > 0) this.live.frame(this.pending.splice(0), []);
      return;
    }
    clearInterval(this.timer);
    const p = this.paint;
    for (const key of this.stderrLines.keys()) {
      const rest = this.stderrLines.flush(key);
      const [step, host] = splitKey(key);
      if (rest !== undefined) this.stderrLine(this.steps.get(step), host, rest);
    }
    // Steps still open (the run was cut short): what they have so far.
    for (const sv of [...this.steps.values()].sort((a, b) => a.index - b.index)) {
      for (const host of sv.running.keys()) sv.extra.push(`${host}: ${p('yellow', 'no result')}`);
      this.stepFinished(sv.index, 'aborted', [], true);
    }
    if (ev) {
      const notStarted = this.notRun.notStarted(ev.hosts);
      if (notStarted.length > 0)
        this.pending.push(`${p('yellow', '↓')} not started: ${foldHostNames(notStarted)} ${p('dim', NOT_STARTED_NOTE)}`);
      this.pending.push(
        formatSummary(ev.status, countHosts(ev.hosts, this.state.changedHosts()), ev.duration_ms, p, this.state.checkCounts()),
      );
    }
    this.done = true;
    this.live.frame(this.pending.splice(0), []);
  }
}

function stderrKey(step: number, host: string): string {
  return `${step}:${host}`;
}

function splitKey(key: string): [number, string] {
  const i = key.indexOf(':');
  return [Number(key.slice(0, i)), key.slice(i + 1)];
}
