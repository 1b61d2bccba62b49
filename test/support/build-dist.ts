/**
 * The CLI tests spawn `node bin/chopsticks.js`, which runs from dist/. `npm test` builds first;
 * a bare `vitest run test/cli` on a fresh or edited checkout builds here, once per run (this
 * module is vitest's globalSetup; tsc, then the CLI bundle), and test files may call `ensureBuilt()` again safely: a lock
 * folder makes parallel callers wait for one build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function distIsFresh(): boolean {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  const bundle = join(ROOT, 'dist', 'bundle', 'cli.cjs');
  if (!existsSync(main) || statSync(main).mtimeMs < newestMtime(join(ROOT, 'src'))) return false;
  // The CLI tests run what users run: the bundle (bin/chopsticks.js falls back when it is stale).
  return existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(main).mtimeMs;
}

/** Build dist/ if it is older than src/. */
export function ensureBuilt(): void {
  if (distIsFresh()) return;
  const lock = join(tmpdir(), 'chopsticks-e2e-build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held too long; remove it if no build runs`);
      spawnSync('sleep', ['0.5']);
      if (distIsFresh()) return;
    }
  }
  try {
    if (distIsFresh()) return;
    // tsc emits even when some file has a type error; `npm test`'s own tsc run reports those.
    spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('the build did not produce dist/cli/main.js');
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs')], { cwd: ROOT, stdio: 'ignore' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export default function setup(): void {
  ensureBuilt();
}
