/**
 * A private folder (0700) on the controller while `fn` runs, for what a step makes before it
 * sends it (a rendered template, a sync archive). Removed after, and by an urgent exit (a
 * second Ctrl-C) too: a 300 MB archive must not outlive the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onUrgentExit } from './urgent-exit.js';

export async function withPrivateTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const remove = () => rm(dir, { recursive: true, force: true });
  const forget = onUrgentExit(remove);
  try {
    return await fn(dir);
  } finally {
    forget();
    await remove();
  }
}
