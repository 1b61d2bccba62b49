/**
 * Report files appear whole or not at all: a reader (CI, --resume) never sees half a report,
 * even when the run is killed while writing it.
 */
import { closeSync, openSync, statSync, unlinkSync, promises as fsp } from 'node:fs';
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
 * instead of after an hour of deployment. The check does what the write will do: make a file
 * beside the target (then removes it), so a read-only or pseudo filesystem (/proc) is caught too.
 */
export function assertWritableTarget(option: string, path: string): void {
  const abs = resolve(path);
  const dir = dirname(abs);
  let target;
  try {
    target = statSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    // ENOTDIR: a part of the path is a file.
    throw new UsageError(
      `${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? 'not a path'}: a part of the path is not a folder; choose another path`,
    );
  }
  // The report replaces a file by rename, which cannot replace a folder.
  if (target?.isDirectory()) {
    throw new UsageError(
      `${option} ${path}: is a folder; give a file path (such as ${join(path, 'report')}${option === '--junit' ? '.xml' : '.json'})`,
    );
  }
  const probe = join(dir, `.${basename(abs)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const folder = statSync(dir, { throwIfNoEntry: false });
    throw new UsageError(
      folder?.isDirectory()
        ? `${option} ${path}: cannot make a file in ${dir} (${code ?? String(e)}); choose another path`
        : `${option} ${path}: folder ${dir} does not exist; create it or choose another path`,
    );
  }
}

/** Writes to a stream and resolves when the data has been handed to the OS. */
export function writeStream(stream: NodeJS.WritableStream, data: string): Promise<void> {
  return new Promise((resolveP, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolveP()));
  });
}
