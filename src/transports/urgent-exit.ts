/**
 * What must still happen when the user insists on leaving now (a second SIGINT): the process
 * exits within a second or so, and things made for the run that would outlive it (ephemeral
 * containers, half-written local files) are removed on the way out, as far as that second
 * allows. Transports register such clean-ups while the thing exists and drop them after.
 */
type Cleanup = () => unknown;

const cleanups = new Set<Cleanup>();

/** Registers `fn` for an urgent exit; the returned function unregisters it. */
export function onUrgentExit(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** Runs every registered clean-up at once and waits for them at most `ms`. Never throws. */
export async function runUrgentCleanups(ms: number): Promise<void> {
  const running = [...cleanups].map(async (fn) => {
    try {
      await fn();
    } catch {
      // best effort: the process is leaving
    }
  });
  cleanups.clear();
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, ms).unref())]);
}
