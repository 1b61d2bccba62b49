/**
 * The mode of a file fetch writes, as scp and Ansible give it: a file fetched over an existing
 * one keeps that file's mode; a new one gets 0666 less the umask. The umask is read from a file
 * made with 0666, not with process.umask(), which reads it by setting it twice and so races
 * any other thread creating a file meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Mode of a new file with 0666 asked for, once per process (the umask does not change under a run). */
let newFileMode: Promise<number> | undefined;

/** `folder`: where the probe file is made (the fetch's own folder, known writable). */
function modeOfNewFile(folder: string, prefix: string): Promise<number> {
  newFileMode ??= (async () => {
    const probe = join(folder, `${prefix}umask-${randomBytes(8).toString('hex')}`);
    const fh = await open(probe, 'wx', 0o666);
    try {
      return (await fh.stat()).mode & 0o777;
    } finally {
      await fh.close();
      await unlink(probe).catch(() => {});
    }
  })();
  // A probe that failed is tried again by the next fetch; this one takes the usual umask's 0644.
  return newFileMode.catch(() => {
    newFileMode = undefined;
    return 0o644;
  });
}

/** The mode for `dest` (its folder exists); `prefix` names the probe file as a temp file of fetch's. */
export async function fetchedMode(dest: string, folder: string, prefix: string): Promise<number> {
  try {
    return (await stat(dest)).mode & 0o7777;
  } catch {
    return modeOfNewFile(folder, prefix);
  }
}
