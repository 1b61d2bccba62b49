/**
 * listr2 task list for a terminal: a task per step, a subtask per host (bytes for put/fetch,
 * the last stderr line under it), and the step's folded results when it finishes.
 *
 * listr2 runs tasks; here nothing runs: every task wraps a promise that events settle.
 * One Listr per batch (they never render at the same time: each starts when the previous
 * one is done). This reporter must never break the run, so every entry point is guarded
 * and close() settles every promise it made.
 */
import { DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrTask, type ListrTaskWrapper } from 'listr2';
import type { HostResult, Reporter, RunEvent } from '../run/events.js';
import type { Plan } from '../compile/plan-types.js';
import { ReportBuilder } from './build-report.js';
import { foldResults, labelOf } from './fold.js';
import { countHosts, formatFolded, formatSummary, humanBytes, painter, shorten, type Paint } from './format.js';
import { LineBuffers } from './line-buffer.js';
import { reportFailure } from './safe.js';

export type ListrRendererName = 'default' | 'simple' | 'verbose';

export interface ListrReporterOptions {
  /** Where the task list is drawn (stderr when the JSON report takes stdout). */
  out: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  color: boolean;
  /** `default` in a terminal; tests use `simple` / `verbose`. */
  renderer?: ListrRendererName;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wrapper = ListrTaskWrapper<any, any, any>;

/**
 * listr2 decides "is this a terminal" from process.stdout alone; our list may be drawn on
 * stderr (when `--json -` owns stdout), so that choice is made here, from the real stream.
 */
class StreamDefaultRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

class Deferred<T> {
  settled = false;
  readonly promise: Promise<T>;
  private res!: (v: T) => void;
  constructor() {
    this.promise = new Promise<T>((r) => (this.res = r));
  }
  resolve(v: T): void {
    if (this.settled) return;
    this.settled = true;
    this.res(v);
  }
}

type HostEnd = { kind: 'result'; result: HostResult } | { kind: 'not_run' };

interface HostTask {
  host: string;
  wrapper?: Wrapper;
  end: Deferred<HostEnd>;
}

type StepStart = { kind: 'started'; targets: string[] } | { kind: 'not_run' };

interface StepTask {
  index: number;
  title: string;
  start: Deferred<StepStart>;
  /** Folded result lines and a note for the title (`1 failed`), set when the step finishes. */
  finish: Deferred<{ lines: string[]; note: string }>;
  hosts: Map<string, HostTask>;
  results: Array<{ host: string; result: HostResult }>;
}

interface Segment {
  steps: StepTask[];
}

export class ListrReporter implements Reporter {
  private readonly paint: Paint;
  private readonly state = new ReportBuilder();
  private readonly lines = new LineBuffers();
  private plan: Plan | undefined;
  private segment: Segment | undefined;
  /** Each Listr starts after the previous one is drawn to the end. */
  private chain: Promise<void> = Promise.resolve();
  private finished: Extract<RunEvent, { type: 'run_finished' }> | undefined;
  private readonly warnings: string[] = [];

  constructor(private readonly opts: ListrReporterOptions) {
    this.paint = painter(opts.color);
  }

  onEvent(ev: RunEvent): void {
    try {
      this.state.onEvent(ev);
      this.handle(ev);
    } catch (e) {
      reportFailure(this.opts.stderr, 'task list', e);
    }
  }

  async close(): Promise<void> {
    try {
      this.endSegment();
      await this.chain;
      const f = this.finished;
      const out = this.opts.out;
      for (const w of this.warnings) out.write(`${this.paint('yellow', 'warning')}: ${w}\n`);
      if (f) out.write(`${formatSummary(f.status, countHosts(f.hosts, this.state.changedHosts()), f.duration_ms, this.paint)}\n`);
    } catch (e) {
      reportFailure(this.opts.stderr, 'task list', e);
    }
  }

  private handle(ev: RunEvent): void {
    switch (ev.type) {
      case 'run_started':
        this.plan = ev.plan;
        return;
      case 'batch_started':
        this.endSegment();
        this.startSegment(this.plan?.serial !== undefined ? `batch ${ev.batch + 1}` : undefined);
        return;
      case 'step_started': {
        const st = this.stepTask(ev.step);
        if (!st) return;
        // Linear strategy: the list is sequential, so steps before this one that never started
        // would block it. They were not run in this batch.
        if (this.plan?.strategy !== 'free') {
          for (const other of this.segment?.steps ?? []) if (other.index < ev.step) other.start.resolve({ kind: 'not_run' });
        }
        for (const host of ev.targets) if (!st.hosts.has(host)) st.hosts.set(host, { host, end: new Deferred<HostEnd>() });
        st.start.resolve({ kind: 'started', targets: ev.targets });
        return;
      }
      case 'host_started': {
        const ht = this.stepTask(ev.step)?.hosts.get(ev.host);
        if (ht?.wrapper && ev.attempt > 1) ht.wrapper.title = `${ev.host} (attempt ${ev.attempt})`;
        return;
      }
      case 'host_progress': {
        const ht = this.stepTask(ev.step)?.hosts.get(ev.host);
        if (ht?.wrapper) ht.wrapper.title = `${ev.host} ${humanBytes(ev.bytes)}${ev.total !== null ? ` / ${humanBytes(ev.total)}` : ''}`;
        return;
      }
      case 'host_stderr': {
        const ht = this.stepTask(ev.step)?.hosts.get(ev.host);
        const done = this.lines.push(`${ev.step}:${ev.host}`, ev.text);
        const last = done[done.length - 1];
        if (ht?.wrapper && last !== undefined) ht.wrapper.output = `${ev.host} | ${shorten(last, 120)}`;
        return;
      }
      case 'host_result': {
        this.lines.flush(`${ev.step}:${ev.host}`);
        const st = this.stepTask(ev.step);
        if (!st) return;
        st.results.push({ host: ev.host, result: ev.result });
        let ht = st.hosts.get(ev.host);
        if (!ht) st.hosts.set(ev.host, (ht = { host: ev.host, end: new Deferred<HostEnd>() }));
        ht.end.resolve({ kind: 'result', result: ev.result });
        return;
      }
      case 'step_finished': {
        const st = this.stepTask(ev.step);
        if (!st) return;
        if (ev.status === 'not_run') {
          st.start.resolve({ kind: 'not_run' });
          return;
        }
        // Free strategy announces an upper bound; hosts it did not reach were not run.
        for (const ht of st.hosts.values()) ht.end.resolve({ kind: 'not_run' });
        const failed = st.results.filter((x) => !x.result.ok).length;
        const lines = foldResults(st.results, this.plan?.hosts.map((h) => h.name)).map((f) => formatFolded(f, this.paint));
        st.results = [];
        const note = [failed > 0 ? `${failed} failed` : '', ev.status === 'aborted' ? 'aborted the run' : ''].filter(Boolean).join(', ');
        st.finish.resolve({ lines, note });
        return;
      }
      case 'group_decided':
        return;
      case 'warning':
        // Written after the list: a line printed under a live list would be drawn over.
        this.warnings.push(`${ev.host !== undefined ? `${ev.host}: ` : ''}${ev.message}`);
        return;
      case 'run_finished':
        this.finished = ev;
        this.endSegment();
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  private stepTask(step: number): StepTask | undefined {
    return this.segment?.steps.find((s) => s.index === step);
  }

  private startSegment(batchTitle: string | undefined): void {
    const plan = this.plan;
    if (!plan) return;
    const seg: Segment = {
      steps: plan.steps.map((s) => ({
        index: s.index,
        title: `[${s.index + 1}/${plan.steps.length}] ${s.name}`,
        start: new Deferred<StepStart>(),
        finish: new Deferred<{ lines: string[]; note: string }>(),
        hosts: new Map(),
        results: [],
      })),
    };
    this.segment = seg;
    const concurrent = plan.strategy === 'free';
    const stepTasks: ListrTask[] = seg.steps.map((st) => this.stepListrTask(st));
    const tasks: ListrTask[] =
      batchTitle === undefined
        ? stepTasks
        : [{ title: batchTitle, task: (_ctx, task) => task.newListr(stepTasks, { concurrent, exitOnError: false }) }];
    const list = new Listr(tasks, {
      concurrent,
      exitOnError: false,
      collectErrors: false,
      registerSignalListeners: false,
      renderer: (this.opts.renderer ?? 'default') === 'default' ? StreamDefaultRenderer : this.opts.renderer,
      fallbackRenderer: 'simple',
      fallbackRendererCondition: this.opts.renderer === undefined ? this.opts.out.isTTY !== true : false,
      rendererOptions: { logger: this.logger(), collapseSubtasks: true, collapseErrors: false, showErrorMessage: true },
      fallbackRendererOptions: { logger: this.logger() },
    } as ConstructorParameters<typeof Listr>[1]);
    this.chain = this.chain.then(() =>
      list.run().then(
        () => undefined,
        (e: unknown) => reportFailure(this.opts.stderr, 'task list', e),
      ),
    );
  }

  /** Settles every promise of the current list so it can finish drawing. */
  private endSegment(): void {
    const seg = this.segment;
    if (!seg) return;
    this.segment = undefined;
    for (const st of seg.steps) {
      st.start.resolve({ kind: 'not_run' });
      for (const ht of st.hosts.values()) ht.end.resolve({ kind: 'not_run' });
      st.finish.resolve({ lines: foldResults(st.results, this.plan?.hosts.map((h) => h.name)).map((f) => formatFolded(f, this.paint)), note: '' });
    }
  }

  private logger(): ListrLogger {
    const { out, stderr } = this.opts;
    // Human output may be on stderr (when --json - owns stdout): both channels then go there.
    return new ListrLogger({ processOutput: new ProcessOutput(out, out === stderr ? out : stderr), useIcons: true });
  }

  private stepListrTask(st: StepTask): ListrTask {
    return {
      title: st.title,
      rendererOptions: { persistentOutput: true, outputBar: Infinity, bottomBar: false },
      task: async (_ctx, task) => {
        const start = await st.start.promise;
        if (start.kind === 'not_run') {
          task.skip(`${st.title} (not run)`);
          return;
        }
        const on = start.targets.length;
        task.title = `${st.title} on ${on} host${on === 1 ? '' : 's'}`;
        const hostTasks: ListrTask[] = [...st.hosts.values()].map((ht) => this.hostListrTask(ht));
        const closer: ListrTask = {
          // No title: invisible; keeps the step open until step_finished, then shows the fold.
          task: async () => {
            const { lines, note } = await st.finish.promise;
            if (note !== '') task.title = `${task.title}: ${this.paint('red', note)}`;
            if (lines.length > 0) task.output = lines.join('\n');
          },
        };
        return task.newListr([...hostTasks, closer], { concurrent: true, exitOnError: false });
      },
    };
  }

  private hostListrTask(ht: HostTask): ListrTask {
    return {
      title: ht.host,
      task: async (_ctx, task) => {
        ht.wrapper = task;
        const end = await ht.end.promise;
        if (end.kind === 'not_run') {
          task.skip(`${ht.host} (not run)`);
          return;
        }
        const r = end.result;
        // A failed host does not fail its listr task: listr2 would then expand every host of
        // the step for good, and the fold (which names the failed hosts) is what should stay.
        if (!r.ok) {
          task.title = this.paint('red', `${ht.host} ${labelOf(r).toUpperCase()} ${r.error.kind}: ${shorten(r.error.msg, 160)}`);
          return;
        }
        if (r.skipped) {
          task.skip(`${ht.host} skipped (${r.skip_reason === 'when' ? 'when is false' : 'check mode'})`);
          return;
        }
        task.title = `${ht.host}${r.changed ? ' (changed)' : ''}: ${shorten(JSON.stringify(r.value), 80)}`;
      },
    };
  }
}
