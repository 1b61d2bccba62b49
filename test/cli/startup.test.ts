/**
 * Start-up (docs/decisions.md#start-up): `validate` and `plan` load no transport, reporter or
 * template engine, and the CLI runs from its bundle. A module recorder is preloaded with
 * `--import`; it writes, at exit, every CommonJS file in require.cache, every ES module URL
 * seen by a load hook, and the built-in modules loaded (process.moduleLoadList).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

let dir: string;
let recorder: string;

beforeAll(() => {
  ensureBuilt();
  dir = tempDir('chopsticks-startup-');
  recorder = join(dir, 'record-modules.mjs');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, ctx, next) {
  appendFileSync(process.env.RECORD_TO + '.esm', url + '\\n');
  return next(url, ctx);
}
`,
  );
  writeFileSync(
    recorder,
    `import { register, createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
const require = createRequire(import.meta.url);
process.on('exit', () => {
  writeFileSync(process.env.RECORD_TO, JSON.stringify({ cjs: Object.keys(require.cache), builtins: process.moduleLoadList }));
});
`,
  );
});

afterAll(() => cleanup(dir));

interface Loaded {
  files: string[];
  builtins: string[];
}

function loadedBy(args: string[], env: Record<string, string> = {}): Loaded {
  const out = join(dir, `loaded-${args[0]}-${Object.keys(env).join('-')}.json`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(recorder).href, BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, RECORD_TO: out, ...env },
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const rec = JSON.parse(readFileSync(out, 'utf8')) as { cjs: string[]; builtins: string[] };
  let esm: string[] = [];
  try {
    esm = readFileSync(`${out}.esm`, 'utf8').split('\n').filter(Boolean);
  } catch {
    // No ES module but the entry point went through the hook: the bundle is CommonJS.
  }
  return { files: [...rec.cjs, ...esm], builtins: rec.builtins };
}

// What validate and plan never need: transports, reporters, template engines, rule engines.
const HEAVY = [
  'ssh2',
  'dockerode',
  'cpu-features',
  'liquidjs',
  'json-logic-engine',
  'junit-report-builder',
  'tar-stream',
  'ssh-config',
  'minimatch',
  'diff',
];
const heavyIn = (files: string[]): string[] => HEAVY.filter((p) => files.some((f) => f.includes(`/node_modules/${p}/`)));

describe('start-up', () => {
  it.each([
    ['bundle', {}],
    ['unbundled dist/', { CHOPSTICKS_NO_BUNDLE: '1' }],
  ])('validate and plan load no transport, reporter or template engine (%s)', (_label, env) => {
    for (const args of [
      ['validate', 'playbooks/hello.yaml'],
      ['plan', 'playbooks/hello.yaml'],
    ]) {
      const { files, builtins } = loadedBy(args, env);
      expect(heavyIn(files), args.join(' ')).toEqual([]);
      // The schema validators are the generated ones: ajv's compiler is not loaded.
      expect(
        files.filter((f) => /\/node_modules\/ajv\/dist\/(2020|core|ajv)\.js$/.test(f)),
        args.join(' '),
      ).toEqual([]);
      expect(files.some((f) => f.includes('/dist/transports/') || f.includes('/dist/report/') || f.includes('/dist/run/'))).toBe(false);
      // (node:net is there for stdout when it is a pipe.)
      expect(
        builtins.filter((b) => /^NativeModule (tls|http|https|child_process)$/.test(b)),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('runs from the bundle, compiled from a code cache kept in a folder only the user can write', () => {
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    for (let i = 0; i < 2; i++) {
      const { files } = loadedBy(['validate', 'playbooks/hello.yaml'], { TMPDIR: tmp });
      // Not one module file of dist/ is read: the bundle is the only one (read by bin itself).
      expect(files.filter((f) => f.includes('/dist/'))).toEqual([]);
    }
    if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') return; // Node's own cache
    const cacheDir = join(tmp, `chopsticks-compile-cache-${process.getuid?.() ?? 0}`);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.v8'))).toHaveLength(1);
  });

  it('keeps the code cache of a run that failed as partial, and replaces it after the first run that succeeds', () => {
    if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') return; // Node's own cache
    const tmp = join(dir, 'tmp-partial');
    mkdirSync(tmp);
    const cacheDir = join(tmp, `chopsticks-compile-cache-${process.getuid?.() ?? 0}`);
    const caches = (): string[] => readdirSync(cacheDir).filter((f) => f.includes('-validate.'));
    const validate = (file: string): number | null =>
      spawnSync(process.execPath, [BIN, 'validate', file], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } }).status;

    expect(validate('playbooks/no-such-playbook.yaml')).toBe(4);
    const [partial] = caches();
    expect(partial).toMatch(/-validate\.partial\.v8$/);
    const partialSize = statSync(join(cacheDir, partial!)).size;
    expect(validate('playbooks/no-such-playbook.yaml')).toBe(4);
    expect(caches()).toEqual([partial]);

    expect(validate('playbooks/hello.yaml')).toBe(0);
    const [full] = caches();
    expect(caches()).toHaveLength(1);
    expect(full).toMatch(/-validate\.v8$/);
    // It holds what validating a playbook compiles: the parser, the schema validators, the compiler.
    expect(statSync(join(cacheDir, full!)).size).toBeGreaterThan(2 * partialSize);
  });

  it('falls back to dist/cli/main.js when the bundle is older than it (a bare tsc build)', async () => {
    const bundle = join(ROOT, 'dist', 'bundle', 'cli.cjs');
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const { atime, mtime } = statSync(bundle);
    const mainTimes = statSync(main);
    const { utimesSync } = await import('node:fs');
    utimesSync(bundle, atime, new Date(mainTimes.mtimeMs - 60_000));
    try {
      const { files } = loadedBy(['validate', 'playbooks/hello.yaml'], { STALE: '1' });
      expect(files.some((f) => f.endsWith('/dist/cli/main.js'))).toBe(true);
      expect(files.some((f) => f.endsWith('/dist/bundle/cli.cjs'))).toBe(false);
    } finally {
      utimesSync(bundle, atime, mtime);
    }
  });
});

describe('the bundle and the library are two copies of the code', () => {
  it("a custom callable's HostError (imported from 'chopsticks') keeps its kind", async () => {
    // The callable sits inside the package so that 'chopsticks' resolves to this checkout's dist/.
    const callable = join(ROOT, 'test', 'fixtures', 'callables', `host-error-${process.pid}.mjs`);
    writeFileSync(
      callable,
      `import { HostError } from 'chopsticks';
export default async function () { throw new HostError('timeout', 'deliberate: the service did not answer'); }
`,
    );
    try {
      const pb = writePlaybook(
        dir,
        `version: 1
callables: { slow: ${JSON.stringify(callable)} }
hosts: { h1: { transport: local } }
steps:
  - name: ask
    call: slow
`,
      );
      const reportFile = join(dir, 'report.json');
      const r = await runCli(['run', pb, '--json', reportFile]);
      expect(r.code).not.toBe(0);
      const report = parseReport(readFileSync(reportFile, 'utf8'));
      const res = report.steps[0]?.results.h1;
      expect(res?.ok === false ? res.error : res).toMatchObject({ kind: 'timeout', msg: 'deliberate: the service did not answer' });
    } finally {
      cleanup(callable);
    }
  });
});
