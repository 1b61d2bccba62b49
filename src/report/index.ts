/**
 * Reporter registry: every output of a run is a reporter fed the same events
 * (vitest-style, keyed by the command-line name).
 */
import type { Reporter } from '../run/events.js';
import { assertWritableTarget } from './atomic-write.js';
import { EventsReporter } from './events.js';
import { shouldColor } from './format.js';
import { JsonReporter } from './json.js';
import { PlainReporter } from './plain.js';
import { createQuietReporter } from './quiet.js';
import { TtyReporter } from './tty.js';

export type OutputMode = 'auto' | 'tty' | 'plain' | 'quiet';

export interface CreateReportersOptions {
  output: OutputMode;
  /** A file, or '-' for stdout (human output then goes to stderr). */
  json?: string;
  junit?: string;
  events?: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Overrides NO_COLOR / FORCE_COLOR / TTY detection. */
  color?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the reporters of a run. Throws UsageError (exit 5) before anything runs when a
 * report file cannot be written, so a long run never ends without its report. The JUnit
 * writer is loaded only when asked for: it costs more start-up than the other reporters.
 */
export async function createReporters(opts: CreateReportersOptions): Promise<Reporter[]> {
  const env = opts.env ?? process.env;
  const human = opts.json === '-' ? opts.stderr : opts.stdout;
  const color = shouldColor(human, env, opts.color);
  const reporters: Reporter[] = [];

  if (opts.json !== undefined && opts.json !== '-') assertWritableTarget('--json', opts.json);
  if (opts.junit !== undefined) assertWritableTarget('--junit', opts.junit);
  if (opts.events !== undefined) reporters.push(new EventsReporter(opts.events, opts.stderr));

  reporters.push(humanReporter(opts.output, human, opts.stderr, color, env));
  if (opts.json !== undefined) reporters.push(new JsonReporter(opts.json, opts.stdout, opts.stderr));
  if (opts.junit !== undefined) {
    const { JunitReporter } = await import('./junit.js');
    reporters.push(new JunitReporter(opts.junit, opts.stderr));
  }
  return reporters;
}

function humanReporter(
  output: OutputMode,
  out: NodeJS.WriteStream,
  stderr: NodeJS.WriteStream,
  color: boolean,
  env: NodeJS.ProcessEnv,
): Reporter {
  switch (output) {
    case 'tty':
      return new TtyReporter({ out, stderr, color });
    case 'plain':
      return new PlainReporter({ out, stderr, color });
    case 'quiet':
      return createQuietReporter({ out, stderr, color });
    case 'auto':
      return out.isTTY && !isCI(env) ? new TtyReporter({ out, stderr, color }) : new PlainReporter({ out, stderr, color });
    default: {
      const never: never = output;
      throw new Error(`unknown output mode ${String(never)}`);
    }
  }
}

function isCI(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

export { ReportBuilder, buildReport } from './build-report.js';
export { eventLine, EventsReporter } from './events.js';
export { JsonReporter } from './json.js';
export { PlainReporter } from './plain.js';
export { createQuietReporter } from './quiet.js';
export { TtyReporter } from './tty.js';
export { foldResults } from './fold.js';
export { writeFileAtomic } from './atomic-write.js';
