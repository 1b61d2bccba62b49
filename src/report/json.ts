/** `--json FILE|-`: the run report (docs/cli.md#the-run-report---json), written once at close. */
import type { Reporter, RunEvent } from '../run/events.js';
import { writeFileAtomic, writeStream } from './atomic-write.js';
import { ReportBuilder } from './build-report.js';
import { orderedJson } from './ordered-json.js';
import { reportFailure } from './safe.js';

export class JsonReporter implements Reporter {
  private readonly builder = new ReportBuilder();

  constructor(
    /** A file path, or '-' for stdout. */
    private readonly target: string,
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
  ) {}

  onEvent(ev: RunEvent): void {
    try {
      this.builder.onEvent(ev);
    } catch (e) {
      reportFailure(this.stderr, 'json report', e);
    }
  }

  async close(): Promise<void> {
    try {
      const text = `${orderedJson(this.builder.report())}\n`;
      if (this.target === '-') await writeStream(this.stdout, text);
      else await writeFileAtomic(this.target, text);
    } catch (e) {
      reportFailure(this.stderr, `json report ${this.target}`, e);
    }
  }
}
