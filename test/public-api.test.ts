/**
 * The package's public surface, as a program that installed it sees it: `import 'chopsticks'`
 * resolves through package.json's `exports` to the built dist/index.js, and nothing else under
 * dist/ is reachable. Adding or removing an export is a decision: change PUBLIC_API with it (and
 * CHANGELOG.md). The programs run in a temporary folder whose node_modules/chopsticks links to
 * this checkout, the way an installed copy is found.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Every runtime export of the package entry, with its typeof. Types are pinned by the type test below. */
const PUBLIC_API: Record<string, string> = {
  HostError: 'function',
  PlaybookInvalidError: 'function',
  buildReport: 'function',
  createReporters: 'function',
  formatPlanText: 'function',
  formatProblem: 'function',
  planPlaybook: 'function',
  planToJson: 'function',
  runPlan: 'function',
  runPlaybook: 'function',
};

const ROOT = realpathSync(resolve(fileURLToPath(new URL('..', import.meta.url))));
let consumer: string;

beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), 'chopsticks-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(ROOT, join(consumer, 'node_modules', 'chopsticks'), 'dir');
  writeFileSync(join(consumer, 'package.json'), '{ "type": "module", "private": true }\n');
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

/** Runs an ES module body with node in the consumer folder; returns what it printed as JSON. */
function nodeEval(body: string): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', body], { cwd: consumer, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`node exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The error code Node gives when importing `specifier` from the consumer folder, or 'ok'. */
function importOutcome(specifier: string): string {
  return nodeEval(
    `try { await import(${JSON.stringify(specifier)}); console.log('"ok"'); } catch (e) { console.log(JSON.stringify(e.code ?? String(e))); }`,
  ) as string;
}

describe('public API', () => {
  it("'chopsticks' resolves to the built dist/index.js and exports exactly PUBLIC_API", () => {
    const got = nodeEval(`
      const m = await import('chopsticks');
      const names = Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k]]));
      console.log(JSON.stringify({ file: import.meta.resolve('chopsticks'), names }));
    `) as { file: string; names: Record<string, string> };
    expect(fileURLToPath(got.file)).toBe(join(ROOT, 'dist', 'index.js'));
    expect(got.names).toEqual(PUBLIC_API);
  });

  it('deep imports into dist/, src/ and the generated validator are refused by Node', () => {
    for (const deep of [
      'chopsticks/dist/run/executor.js',
      'chopsticks/dist/index.js',
      'chopsticks/dist/cli/main.js',
      'chopsticks/src/index.ts',
      'chopsticks/schema/playbook.validate.cjs',
    ]) {
      expect(importOutcome(deep), deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }
  });

  it('package.json and the two JSON schemas are public', () => {
    const got = nodeEval(`
      const j = async (s) => (await import(s, { with: { type: 'json' } })).default;
      console.log(JSON.stringify({
        name: (await j('chopsticks/package.json')).name,
        playbook: (await j('chopsticks/schema/playbook.schema.json')).$id,
        report: (await j('chopsticks/schema/report.schema.json')).$schema,
      }));
    `) as Record<string, string>;
    expect(got.name).toBe('chopsticks');
    expect(got.playbook).toMatch(/playbook\.schema\.json$/);
    expect(got.report).toMatch(/json-schema\.org/);
  });

  it('TypeScript resolves the types through exports, and a deep import does not type-check', () => {
    const file = join(consumer, 'consumer.ts');
    writeFileSync(
      file,
      [
        "import { runPlaybook, planPlaybook, HostError, type RunEvent, type Plan, type RunReport } from 'chopsticks';",
        "import { execute } from 'chopsticks/dist/run/executor.js';",
        'export const f: typeof runPlaybook = runPlaybook;',
        'export const g = planPlaybook;',
        "export const e: HostError = new HostError('failed', 'x');",
        'export type T = [RunEvent, Plan, RunReport];',
        'export const x = execute;',
        '',
      ].join('\n'),
    );
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => {
        const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `${line}: TS${d.code}`;
      });
    // Line 2 is the deep import: "cannot find module" (TS2307) under the exports map.
    expect(problems).toEqual(['2: TS2307']);
  });
});
