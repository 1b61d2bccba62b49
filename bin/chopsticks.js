#!/usr/bin/env node
// Entry point (CommonJS: bin/package.json; an ES module entry costs Node its ESM loader at start).
// The compiled CLI lives in dist/ (built by `npm install` through `prepare`, or `npm run build`):
// one bundled file, dist/bundle/cli.cjs, when the build made it and it is not older than
// dist/cli/main.js, else dist/cli/main.js and its ~140 modules. Start-up time is a feature
// (docs/decisions.md#start-up): the bundle is read as one file and compiled from a V8 code cache.
'use strict';
const { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const module_ = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'cli.cjs');
const entry = join(__dirname, '..', 'dist', 'cli', 'main.js');

async function start() {
  const bundleStat = statSync(bundle, { throwIfNoEntry: false });
  const entryStat = statSync(entry, { throwIfNoEntry: false });
  if (bundleStat && (!entryStat || bundleStat.mtimeMs >= entryStat.mtimeMs) && process.env.CHOPSTICKS_NO_BUNDLE === undefined) {
    const cli = loadBundle(bundleStat);
    // import() inside a vm.Script has no loader: custom callables are imported from here.
    cli.setUserModuleImporter((url) => import(url));
    return cli.main;
  }
  if (entryStat) return (await import(pathToFileURL(entry).href)).main;
  process.stderr.write('chopsticks: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}

start()
  .then((main) => main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
    // Everything is done and written. A custom callable that ignored its timeout or the interrupt may
    // still hold a timer or a socket; it must not keep the command alive past the run.
    setTimeout(() => process.exit(code), 1000).unref();
  });

function loadBundle(stat) {
  // Node >= 22.1 keeps its own code cache for every module it compiles.
  if (typeof module_.enableCompileCache === 'function') {
    module_.enableCompileCache();
    return require(bundle);
  }
  const cacheFile = compileCacheFile(stat);
  return cacheFile === undefined ? require(bundle) : runCached(cacheFile);
}

/**
 * Node 20 has no module.enableCompileCache: compile the bundle with vm.Script and keep V8's code
 * cache in a folder only the user can write (a cache another user could write would be code
 * they run). The key is the bundle's identity (size, mtime, inode) and the Node version; V8
 * itself also rejects a cache made by another V8 or other flags.
 */
function compileCacheFile(stat) {
  if (process.env.CHOPSTICKS_NO_COMPILE_CACHE !== undefined || typeof process.getuid !== 'function') return undefined;
  const dir = join(process.env.TMPDIR || '/tmp', `chopsticks-compile-cache-${process.getuid()}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e.code !== 'EEXIST') return undefined;
  }
  const d = lstatSync(dir, { throwIfNoEntry: false });
  if (!d || !d.isDirectory() || d.uid !== process.getuid() || (d.mode & 0o077) !== 0) return undefined;
  // One cache per command: each holds the functions its command runs (validate's has no executor).
  const cmd = ['validate', 'plan', 'run', 'exec', 'hosts', 'report'].includes(process.argv[2]) ? process.argv[2] : 'other';
  // cli-WHERE-BUILD-CMD.v8: WHERE tells installs apart, so one does not prune another's caches.
  let where = 0x811c9dc5;
  for (let i = 0; i < bundle.length; i++) where = Math.imul(where ^ bundle.charCodeAt(i), 0x01000193) >>> 0;
  return join(
    dir,
    `cli-${where.toString(16)}-${stat.size}-${Math.trunc(stat.mtimeMs)}-${stat.ino}-${process.version}-${process.arch}-${cmd}.v8`,
  );
}

function runCached(cacheFile) {
  const { Script } = require('node:vm');
  // A cache holds the functions its run compiled. One from a run that stopped early (a playbook
  // not found, a syntax error) lacks most of what the command runs, and a full cache is never
  // rewritten: such a cache is kept as `.partial.v8` and replaced by the first run that succeeds.
  const partialFile = cacheFile.replace(/\.v8$/, '.partial.v8');
  let cachedData;
  let complete = false;
  try {
    cachedData = readFileSync(cacheFile);
    complete = true;
  } catch {
    cachedData = readOptional(partialFile);
  }
  // The bundle is ASCII (scripts/bundle-cli.mjs): latin1 is exact and the cheapest to decode.
  const source = readFileSync(bundle, 'latin1');
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: bundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, module_.createRequire(bundle), mod, bundle, dirname(bundle));
  const rejected = cachedData !== undefined && script.cachedDataRejected;
  if (!complete || rejected) {
    // Written at exit, so it holds the functions this command compiled, not only the top level.
    process.once('exit', (code) => {
      const target = code === 0 ? cacheFile : cachedData === undefined || rejected ? partialFile : undefined;
      if (target === undefined) return;
      try {
        writeFileSync(`${target}.${process.pid}`, script.createCachedData(), { mode: 0o600 });
        renameSync(`${target}.${process.pid}`, target);
        if (target === cacheFile) unlinkSync(partialFile);
      } catch {
        // A cache is an optimisation: a full disk or a read-only tmp costs speed, nothing else.
      }
      pruneOtherBuilds(cacheFile);
    });
  }
  return mod.exports;
}

function readOptional(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Caches of earlier builds of this install are dead weight. */
function pruneOtherBuilds(cacheFile) {
  try {
    const dir = dirname(cacheFile);
    const name = cacheFile.slice(dir.length + 1);
    const where = name.slice(0, name.indexOf('-', 4) + 1);
    const build = name.slice(0, name.lastIndexOf('-') + 1);
    for (const f of readdirSync(dir)) if (f.startsWith(where) && f.endsWith('.v8') && !f.startsWith(build)) unlinkSync(join(dir, f));
  } catch {
    // As above.
  }
}
