/** Where a command writes: the process's streams, or a test's. */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** A warning before the run: on standard error, whatever the output mode. */
export function warnTo(io: Io): (message: string) => void {
  return (message) => io.stderr.write(`chopsticks: warning: ${message}\n`);
}
