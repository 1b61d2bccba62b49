/**
 * Report files appear whole or not at all: a reader (CI, --resume) never sees half a report,
 * even when the run is killed while writing it.
 */
import { accessSync, constants, statSync, promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fsp.writeFile(tmp, data, { mode: 0o644 });
    await fsp.rename(tmp, abs);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Checked before the run starts so a typo in `--json out/x.json` fails at once (exit 5)
 * instead of after an hour of deployment.
 */
export function assertWritableTarget(option: string, path: string): void {
  const dir = dirname(resolve(path));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${option} ${path}: folder ${dir} does not exist or is not writable; create it or choose another path`);
  }
  // The report replaces a file by rename, which cannot replace a folder.
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(
      `${option} ${path}: is a folder; give a file path (such as ${join(path, 'report')}${option === '--junit' ? '.xml' : '.json'})`,
    );
  }
}

/** Writes to a stream and resolves when the data has been handed to the OS. */
export function writeStream(stream: NodeJS.WritableStream, data: string): Promise<void> {
  return new Promise((resolveP, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolveP()));
  });
}
