/** Reporters never throw into the executor: a reporter's own failure is said on stderr. */
export function reportFailure(stderr: NodeJS.WritableStream, who: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  try {
    stderr.write(`chopsticks: ${who} failed: ${msg}\n`);
  } catch {
    // stderr itself is gone; nothing left to tell.
  }
}
