/** `--output quiet`: nothing but failures, warnings and the final summary line. */
import { PlainReporter } from './plain.js';

export function createQuietReporter(opts: { out: NodeJS.WritableStream; stderr: NodeJS.WritableStream; color: boolean }): PlainReporter {
  return new PlainReporter({ ...opts, quiet: true });
}
