#!/usr/bin/env node
// Entry point. The compiled CLI lives in dist/ (built by `npm install` through `prepare`, or
// `npm run build`): one bundled file, dist/bundle/cli.cjs, when the build made it and it is not
// older than dist/cli/main.js, else dist/cli/main.js and its ~140 modules. Start-up time is a
// feature (docs/decisions.md#start-up): the bundle is read as one file and compiled from a V8
// code cache when one is available.
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/bundle/cli.cjs', import.meta.url);
const entry = new URL('../dist/cli/main.js', import.meta.url);

const bundleStat = statSync(bundle, { throwIfNoEntry: false });
const entryStat = statSync(entry, { throwIfNoEntry: false });
let main;
if (bundleStat && (!entryStat || bundleStat.mtimeMs >= entryStat.mtimeMs) && process.env.CHOPSTICKS_NO_BUNDLE === undefined) {
  const cli = loadBundle(fileURLToPath(bundle), bundleStat);
  // import() inside a vm.Script has no loader: custom callables are imported from here.
  cli.setUserModuleImporter((url) => import(url));
  main = cli.main;
} else if (entryStat) {
  ({ main } = await import(entry.href));
} else {
  process.stderr.write('chopsticks: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is done and written. A custom callable that ignored its timeout or the interrupt may
// still hold a timer or a socket; it must not keep the command alive past the run.
setTimeout(() => process.exit(code), 1000).unref();

function loadBundle(file, stat) {
  // Node >= 22.1 keeps its own code cache for every module it compiles.
  if (typeof module.enableCompileCache === 'function') {
    module.enableCompileCache();
    return module.createRequire(import.meta.url)(file);
  }
  const cacheFile = compileCacheFile(stat);
  if (cacheFile === undefined) return module.createRequire(import.meta.url)(file);
  return runCached(file, cacheFile);
}

/**
 * Node 20 has no module.enableCompileCache: compile the bundle with vm.Script and keep V8's code
 * cache beside nothing else of the user's, in a folder only they can write (a cache another user
 * could write would be code they run). The key is the bundle's identity (size, mtime, inode)
 * and the Node version; V8 itself also rejects a cache made by another V8 or flags.
 */
function compileCacheFile(stat) {
  if (process.env.CHOPSTICKS_NO_COMPILE_CACHE !== undefined || typeof process.getuid !== 'function') return undefined;
  const dir = `${process.env.TMPDIR || '/tmp'}/chopsticks-compile-cache-${process.getuid()}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e.code !== 'EEXIST') return undefined;
  }
  const d = lstatSync(dir, { throwIfNoEntry: false });
  if (!d || !d.isDirectory() || d.uid !== process.getuid() || (d.mode & 0o077) !== 0) return undefined;
  return `${dir}/cli-${stat.size}-${Math.trunc(stat.mtimeMs)}-${stat.ino}-${process.version}-${process.arch}.v8`;
}

function runCached(file, cacheFile) {
  const { Script } = module.createRequire(import.meta.url)('node:vm');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle is ASCII (scripts/bundle-cli.mjs): latin1 is exact and the cheapest to decode.
  const source = readFileSync(file, 'latin1');
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, module.createRequire(file), mod, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    // Written at exit, so it holds the functions this command compiled, not only the top level.
    process.once('exit', () => {
      try {
        writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData(), { mode: 0o600 });
        renameSync(`${cacheFile}.${process.pid}`, cacheFile);
        // Caches of earlier builds are dead weight.
        for (const f of readdirSync(dirname(cacheFile))) if (f.startsWith('cli-') && f.endsWith('.v8') && `${dirname(cacheFile)}/${f}` !== cacheFile) unlinkSync(`${dirname(cacheFile)}/${f}`);
      } catch {
        // A cache is an optimisation: a full disk or a read-only tmp costs speed, nothing else.
      }
    });
  }
  return mod.exports;
}
