/**
 * Plain lines for CI logs and pipes: grep-able, one event per line, no cursor movement.
 *
 *   ▶ [1/4] call facts.os on web[01-40]
 *   web07 | warning: low disk
 *     ok web[01-38]: "pong"
 *     FAILED web39: failed: ...
 *   run failed: 39 ok, 0 changed, 1 failed, 0 unreachable (40 hosts) in 1.2s
 *
 * Quiet mode is the same reporter showing only failures and the summary line.
 */
import { foldHostNames } from '../lang/hostlist.js';
import type { HostResult, Reporter, RunEvent } from '../run/events.js';
import { ReportBuilder } from './build-report.js';
import { foldResults, isErrorLabel } from './fold.js';
import { countHosts, formatFolded, formatSummary, painter, type Paint } from './format.js';
import { LineBuffers } from './line-buffer.js';
import { NOT_STARTED_NOTE, NotRunTracker } from './not-run.js';
import { diffLines, withoutDiff } from './diff-text.js';
import { escapeControls, reportFailure } from './safe.js';

export interface PlainOptions {
  out: NodeJS.WritableStream;
  /** Where the reporter's own failures are said. */
  stderr: NodeJS.WritableStream;
  color: boolean;
  /** Only failures, warnings and the summary line. */
  quiet?: boolean;
}

export class PlainReporter implements Reporter {
  private readonly paint: Paint;
  private readonly state = new ReportBuilder();
  private readonly lines = new LineBuffers();
  private readonly notRun = new NotRunTracker();
  /** Results of each step not yet printed (a step prints once per batch). */
  private readonly pending = new Map<number, Array<{ host: string; result: HostResult }>>();
  private stepCount = 0;
  private hostOrder: string[] = [];
  private stepNames: string[] = [];
  /** The step whose header was printed last: under `strategy: free` steps interleave. */
  private lastHeader = -1;

  constructor(private readonly opts: PlainOptions) {
    this.paint = painter(opts.color);
  }

  onEvent(ev: RunEvent): void {
    try {
      this.state.onEvent(ev);
      this.handle(ev);
    } catch (e) {
      reportFailure(this.opts.stderr, 'plain output', e);
    }
  }

  async close(): Promise<void> {
    try {
      for (const key of this.lines.keys()) this.echoRest(key);
      for (const step of [...this.pending.keys()]) this.flushStep(step);
    } catch (e) {
      reportFailure(this.opts.stderr, 'plain output', e);
    }
  }

  private handle(ev: RunEvent): void {
    const quiet = this.opts.quiet === true;
    const p = this.paint;
    switch (ev.type) {
      case 'run_started': {
        this.stepCount = ev.plan.steps.length;
        this.stepNames = ev.plan.steps.map((s) => s.name);
        this.hostOrder = ev.plan.hosts.map((h) => h.name);
        if (quiet) return;
        const title = ev.plan.name ? `${ev.plan.name} (${ev.plan.playbook})` : ev.plan.playbook;
        const n = ev.plan.hosts.length;
        this.write(
          `${p('bold', `== ${title}`)}: ${n} host${n === 1 ? '' : 's'}, ${ev.plan.steps.length} step${ev.plan.steps.length === 1 ? '' : 's'}${ev.check ? ', check mode' : ''}`,
        );
        return;
      }
      case 'batch_started':
        this.notRun.batchStarted(ev.hosts);
        if (!quiet) this.write(p('bold', `== batch ${ev.batch + 1}: ${foldHostNames(ev.hosts)}`));
        return;
      case 'step_started':
        this.notRun.firstInBatch(ev.step);
        if (!quiet) {
          const on = ev.targets.length > 0 ? foldHostNames(ev.targets) : '(no hosts)';
          this.write(`${p('bold', `▶ [${ev.step + 1}/${this.stepCount}] ${ev.name}`)} on ${on}`);
          this.lastHeader = ev.step;
        }
        return;
      case 'host_started':
        if (!quiet && ev.attempt > 1) this.write(`  ${p('yellow', 'retry')} ${ev.host}: attempt ${ev.attempt}`);
        return;
      case 'host_progress':
        // Byte counts are for the terminal view; a log line per chunk would drown CI logs.
        return;
      case 'host_stderr':
        if (quiet) return;
        for (const line of this.lines.push(stderrKey(ev.step, ev.host), ev.text))
          this.write(`${p('dim', `${ev.host} |`)} ${escapeControls(line)}`);
        return;
      case 'host_result': {
        this.echoRest(stderrKey(ev.step, ev.host));
        let list = this.pending.get(ev.step);
        if (!list) this.pending.set(ev.step, (list = []));
        list.push({ host: ev.host, result: ev.result });
        return;
      }
      case 'step_finished':
        if (ev.status === 'not_run' && this.notRun.firstInBatch(ev.step) && !quiet)
          this.write(`${p('yellow', '↓')} [${ev.step + 1}/${this.stepCount}] ${this.stepNames[ev.step] ?? ''}: ${p('yellow', 'not run')}`);
        this.flushStep(ev.step);
        if (ev.status === 'aborted')
          this.write(
            `  ${p('red', ev.stopped_by === 'signal' ? `step ${ev.step + 1} was stopped by the interrupt` : `step ${ev.step + 1} aborted the run`)}`,
          );
        return;
      case 'group_decided':
        if (!quiet) this.write(`  group ${ev.group} = ${ev.hosts.length > 0 ? foldHostNames(ev.hosts) : '(empty)'}`);
        return;
      case 'warning':
        this.write(
          `${p('yellow', 'warning')}: ${ev.host !== undefined ? `${ev.host}: ` : ''}${escapeControls(ev.message).replace(/\n/g, '\n    ')}`,
        );
        return;
      case 'run_finished': {
        for (const step of [...this.pending.keys()]) this.flushStep(step);
        const notStarted = this.notRun.notStarted(ev.hosts);
        if (notStarted.length > 0 && !quiet)
          this.write(`${p('yellow', '↓')} not started: ${foldHostNames(notStarted)} ${NOT_STARTED_NOTE}`);
        this.write(formatSummary(ev.status, countHosts(ev.hosts, this.state.changedHosts()), ev.duration_ms, p, this.state.checkCounts()));
        return;
      }
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  private flushStep(step: number): void {
    const list = this.pending.get(step);
    this.pending.delete(step);
    if (!list || list.length === 0) return;
    // Results that do not follow their own step's header (a later step started meanwhile) say whose they are.
    if (!this.opts.quiet && this.lastHeader !== step) {
      this.write(this.paint('bold', `◀ [${step + 1}/${this.stepCount}] ${this.stepNames[step] ?? ''} (results)`));
      this.lastHeader = step;
    }
    for (const f of foldResults(
      list.map((e) => ({ host: e.host, result: withoutDiff(e.result) })),
      this.hostOrder,
    )) {
      if (this.opts.quiet && !isErrorLabel(f.label)) continue;
      const prefix = this.opts.quiet ? `[${step + 1}/${this.stepCount}] ` : '  ';
      const [first, ...rest] = formatFolded(f, this.paint);
      this.write(`${prefix}${first}`);
      for (const line of rest) this.write(`  ${line}`);
    }
    if (!this.opts.quiet) {
      const rank = new Map(this.hostOrder.map((h, i) => [h, i]));
      for (const line of diffLines([...list].sort((a, b) => (rank.get(a.host) ?? 0) - (rank.get(b.host) ?? 0))))
        this.write(escapeControls(line));
    }
  }

  private echoRest(key: string): void {
    const rest = this.lines.flush(key);
    if (rest === undefined || this.opts.quiet) return;
    const host = key.slice(key.indexOf(':') + 1);
    this.write(`${this.paint('dim', `${host} |`)} ${escapeControls(rest)}`);
  }

  private write(line: string): void {
    this.opts.out.write(`${line}\n`);
  }
}

function stderrKey(step: number, host: string): string {
  return `${step}:${host}`;
}
