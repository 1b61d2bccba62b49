/**
 * A folder holding only busybox applets, for running the local transport as if on a
 * busybox-only host (no pgrep, no getconf, busybox sh/stat/df/sha1sum).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function busyboxPath(): string | undefined {
  let bb: string;
  let list: string[];
  try {
    bb = execFileSync('sh', ['-c', 'command -v busybox']).toString().trim();
    list = execFileSync(bb, ['--list'])
      .toString()
      .split('\n')
      .filter((x) => x !== '');
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-busybox-'));
  for (const applet of list) symlinkSync(bb, join(dir, applet));
  return dir;
}
