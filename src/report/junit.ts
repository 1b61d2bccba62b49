/**
 * `--junit FILE`: a test suite per step, a test case per host (classname = step name,
 * name = host), so CI dashboards show which host failed which step.
 */
import junitModule, { type Builder } from 'junit-report-builder';
import type { Reporter, RunEvent } from '../run/events.js';
import type { RunReport } from './report-types.js';
import { writeFileAtomic } from './atomic-write.js';
import { ReportBuilder } from './build-report.js';
import { reportFailure } from './safe.js';
import { checkNote } from './outcomes.js';

// The package is CommonJS (`module.exports = builder`) while its types claim an ES default
// export; take whichever shape is really there.
const junitRoot = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;

export function junitXml(report: RunReport): string {
  const builder = junitRoot.newBuilder().name(report.playbook);
  for (const step of report.steps) {
    const suite = builder
      .testSuite()
      .name(`${step.index + 1}. ${step.name}`)
      .timestamp(report.started_at);
    suite.property('kind', step.kind).property('status', step.status);
    let total = 0;
    for (const host of step.targets) {
      const r = step.results[host];
      const tc = suite.testCase().className(step.name).name(host);
      if (r === undefined) {
        // Targeted but never reached (abort, signal): a skip, not a pass.
        tc.skipped();
        continue;
      }
      tc.time(r.duration_ms / 1000);
      total += r.duration_ms;
      // A check run's would_change / unknown / check_mode skip verified nothing: a skip that says what it found.
      const note = checkNote(r);
      if (note !== undefined) {
        tc.skipped().property('outcome', r.outcome!).standardOutput(note);
      } else if (!r.ok) {
        tc.failure(`${r.error.kind}: ${r.error.msg}`, r.error.kind);
        if (r.error.tb) tc.stacktrace(r.error.tb);
      } else if (r.skipped) {
        tc.skipped();
      }
    }
    suite.time(total / 1000);
  }
  return builder.build();
}

export class JunitReporter implements Reporter {
  private readonly builder = new ReportBuilder();

  constructor(
    private readonly path: string,
    private readonly stderr: NodeJS.WritableStream,
  ) {}

  onEvent(ev: RunEvent): void {
    try {
      this.builder.onEvent(ev);
    } catch (e) {
      reportFailure(this.stderr, 'junit report', e);
    }
  }

  async close(): Promise<void> {
    try {
      await writeFileAtomic(this.path, junitXml(this.builder.report()));
    } catch (e) {
      reportFailure(this.stderr, `junit report ${this.path}`, e);
    }
  }
}
