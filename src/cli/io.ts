import type { PlaybookProblem } from '../errors.js';

/** Where a command writes: the process's streams, or a test's. */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * A warning before the run, on standard error whatever the output mode: `FILE:LINE:COL: warning:`
 * when it is about a file, `chopsticks: warning:` when about the command line (`--var`).
 */
export function warnTo(io: Io): (w: PlaybookProblem) => void {
  return (w) =>
    io.stderr.write(
      w.pos.file.startsWith('--')
        ? `chopsticks: warning: ${w.message}\n`
        : `${w.pos.file}:${w.pos.line}:${w.pos.col}: warning: ${w.message}\n`,
    );
}
