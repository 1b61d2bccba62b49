/**
 * Files every connection reads (known_hosts, identity files), read and parsed once per version
 * for the whole process: a 200-host run with one known_hosts file and one key read and parsed
 * each 200 times, about a second of the controller's CPU (bench/README.md#what-the-figures-say-and-what-was-done-about-them).
 * A version is the file's inode, size and modification time, so a file edited during the run
 * (a key that `accept-new` appended) is read again, as OpenSSH reads it for every connection.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export type FileCache<T> = (path: string) => Promise<T>;

/** A reader of `parse(file)` that reuses the last result while the file is unchanged. */
export function fileCache<T>(parse: (data: Buffer, path: string) => T): FileCache<T> {
  const cached = new Map<string, { version: string; value: Promise<T> }>();
  return (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      // Not there, or not to be seen: the read fails as it always did, and nothing is kept.
      return readFile(path).then((d) => parse(d, path));
    }
    const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = cached.get(path);
    if (hit?.version === version) return hit.value;
    const value = readFile(path).then((d) => parse(d, path));
    cached.set(path, { version, value });
    value.catch(() => {
      if (cached.get(path)?.value === value) cached.delete(path);
    });
    return value;
  };
}
