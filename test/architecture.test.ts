/**
 * The import rules of src/ (docs/architecture.md): data moves forward through the stages, files
 * do not import each other in a circle, and the pure stages touch no files, network or processes.
 * Every import counts: static, `export ... from`, dynamic `import()`, `require()`, and type-only
 * ones (a type is coupling too; the only exception is PORTS below).
 *
 * Today's code breaks some rules; those breaks are listed in KNOWN, and the test also fails when
 * one of them is gone, so the list only shrinks. To fix one: change the code, then delete its line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

/**
 * Stages, earliest first; units on one line form one tier. A unit is a folder of src/ or one of
 * its top-level files. `steps/` (one module per step kind) sits before validate, compile and run
 * because all three ask its registry; it sees the later stages only through PORTS.
 * `callables/` sits before validate too: a built-in callable declares its signature (checked by
 * validate) next to its behaviour, and reaches a host only through the HostSession port.
 */
const ORDER: string[][] = [
  ['errors', 'model', 'lang'],
  ['parse'],
  ['steps'],
  ['callables'],
  ['validate'],
  ['compile'],
  ['transports'],
  ['run'],
  ['report'],
  ['api', 'index'],
  ['cli'],
];

interface Rule {
  /** Units this one may import (its own files always). Only earlier or same-tier units. */
  imports: string[];
  /** Narrowing: of unit U, only these files (relative to src/U/). */
  only?: Record<string, string[]>;
}

const RULES: Record<string, Rule> = {
  errors: { imports: [] },
  model: { imports: ['errors', 'lang'] },
  // Pure language pieces: nothing from any stage.
  lang: { imports: ['errors', 'model'] },
  parse: { imports: ['errors', 'model'] },
  steps: { imports: ['errors', 'model', 'lang', 'parse'] },
  // Callables see a host through the session interface only, never a particular transport.
  callables: { imports: ['errors', 'model', 'lang', 'steps'], only: { steps: ['diff.ts'] } },
  validate: { imports: ['errors', 'model', 'lang', 'parse', 'steps', 'callables'], only: { callables: ['builtins.ts'] } },
  // Pure: it gets a validated playbook (its type lives in validate/model.ts) and never calls back
  // into validation.
  compile: {
    imports: ['errors', 'model', 'lang', 'steps', 'callables', 'validate'],
    only: { validate: ['model.ts'], callables: ['builtins.ts'] },
  },
  transports: { imports: ['errors', 'model', 'lang'] },
  run: { imports: ['errors', 'model', 'lang', 'steps', 'compile', 'transports', 'callables'] },
  // Reporters consume RunEvents and nothing else of the run.
  report: { imports: ['errors', 'model', 'lang', 'steps', 'compile', 'run'], only: { run: ['events.ts'] } },
  api: { imports: ['errors', 'model', 'lang', 'parse', 'steps', 'validate', 'compile', 'transports', 'callables', 'run', 'report'] },
  index: {
    imports: ['errors', 'model', 'lang', 'parse', 'steps', 'validate', 'compile', 'transports', 'callables', 'run', 'report', 'api'],
  },
  // Nothing imports cli/ (no rule lists it).
  cli: {
    imports: ['errors', 'model', 'lang', 'parse', 'steps', 'validate', 'compile', 'transports', 'callables', 'run', 'report', 'api'],
  },
};

/**
 * Interfaces a later stage offers to earlier ones: `import type` of these is allowed from any unit
 * from `steps` on (a step kind's run is written against HostSession and Callable without loading
 * any transport or callable code). They must stay declarations only; a test checks that they
 * compile to nothing.
 */
const PORTS = ['transports/session.ts', 'callables/types.ts'];
const PORTS_FROM_TIER = 'steps';

/** Pure stages: no file system, network or process access, directly or through a client library. */
const PURE = ['errors', 'model', 'lang', 'compile'];
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|tls|http|https|http2|dgram|dns|child_process|cluster|worker_threads)$|^(ssh2|dockerode)$/;

/** Breaks of the rules above in today's code: to be removed by issue 8. */
const KNOWN: string[] = [];

// ---------------------------------------------------------------------------------------------
// Reading the imports
// ---------------------------------------------------------------------------------------------

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SRC = join(ROOT, 'src');

interface Import {
  from: string; // path relative to the repository, with '/'
  specifier: string;
  to: string | null; // resolved file under src/, or null for a package
  typeOnly: boolean;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return sourceFiles(p);
      return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
}

const rel = (abs: string) => relative(ROOT, abs).split(sep).join('/');

function resolveSpecifier(fromAbs: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = resolve(dirname(fromAbs), specifier).replace(/\.js$/, '.ts');
  return rel(target);
}

function importsOf(abs: string): Import[] {
  const text = readFileSync(abs, 'utf8');
  const sf = ts.createSourceFile(abs, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (node: ts.Node, specNode: ts.Node | undefined, typeOnly: boolean) => {
    if (!specNode || !ts.isStringLiteralLike(specNode)) return;
    out.push({
      from: rel(abs),
      specifier: specNode.text,
      to: resolveSpecifier(abs, specNode.text),
      typeOnly,
      line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      // `import { type A, type B }` is erased like `import type`; a bare `import 'x'` is a value import.
      const erased =
        c !== undefined &&
        (c.phaseModifier === ts.SyntaxKind.TypeKeyword ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, erased);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const c = node.exportClause;
      const erased =
        node.isTypeOnly || (c !== undefined && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      add(node, node.moduleSpecifier, erased);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    } else if (ts.isCallExpression(node)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** 'src/run/executor.ts' → 'run'; 'src/api.ts' → 'api'. */
function unitOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, '') : parts[1]!;
}

const FILES = sourceFiles(SRC).map(rel);
const IMPORTS = sourceFiles(SRC).flatMap(importsOf);
const TIER = new Map(ORDER.flatMap((tier, i) => tier.map((u) => [u, i] as const)));
const show = (i: Import) => `${i.from} → ${i.to ?? i.specifier}${i.typeOnly ? ' (type)' : ''}`;

function orderViolations(): string[] {
  const out = new Set<string>();
  for (const i of IMPORTS) {
    if (i.to === null) continue;
    const from = unitOf(i.from);
    const to = unitOf(i.to);
    if (from === to) continue;
    const rule = RULES[from];
    const inUnit = i.to.split('/').slice(2).join('/');
    if (i.typeOnly && PORTS.includes(i.to.slice('src/'.length)) && TIER.get(from)! >= TIER.get(PORTS_FROM_TIER)!) continue;
    const allowed = rule !== undefined && rule.imports.includes(to) && (rule.only?.[to] === undefined || rule.only[to].includes(inUnit));
    if (!allowed) out.add(`order: ${show(i)}`);
  }
  return [...out];
}

function ioViolations(): string[] {
  const out = new Set<string>();
  for (const i of IMPORTS) {
    if (i.to === null && PURE.includes(unitOf(i.from)) && IO_MODULES.test(i.specifier)) out.add(`io: ${i.from} → ${i.specifier}`);
  }
  return [...out];
}

/** Strongly connected components of the file graph (Tarjan), as 'cycle: a ↔ b ↔ c' in a cycle's order. */
function cycles(): string[] {
  const edges = new Map<string, string[]>(FILES.map((f) => [f, []]));
  for (const i of IMPORTS) if (i.to !== null && i.to !== i.from) edges.get(i.from)?.push(i.to);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[] = [];
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(`cycle: ${scc.sort().join(' ↔ ')}`);
    }
  };
  for (const f of FILES) if (!index.has(f)) strong(f);
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('architecture', () => {
  it('the rule table itself follows the stage order, and every unit of src/ has a rule', () => {
    for (const [unit, rule] of Object.entries(RULES)) {
      expect(TIER.has(unit), `${unit} is not in ORDER`).toBe(true);
      for (const to of rule.imports) expect(TIER.get(to)!, `${unit} may import ${to}, a later stage`).toBeLessThanOrEqual(TIER.get(unit)!);
    }
    expect([...new Set(FILES.map(unitOf))].filter((u) => !(u in RULES))).toEqual([]);
  });

  it('every import resolves to a file of src/ or names a package', () => {
    expect(IMPORTS.filter((i) => i.to !== null && !FILES.includes(i.to)).map(show)).toEqual([]);
  });

  it('PORTS are declarations only (they compile to nothing)', () => {
    for (const port of PORTS) {
      const out = ts.transpileModule(readFileSync(join(SRC, port), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, removeComments: true },
      }).outputText;
      expect(out.replace(/export \{\};/g, '').trim(), port).toBe('');
    }
  });

  it('no import runs against the stage order (beyond KNOWN)', () => {
    expect(orderViolations().filter((v) => !KNOWN.includes(v))).toEqual([]);
  });

  it('the pure stages import no file-system, network or process module (beyond KNOWN)', () => {
    expect(ioViolations().filter((v) => !KNOWN.includes(v))).toEqual([]);
  });

  it('no two files import each other, directly or through others (beyond KNOWN)', () => {
    expect(cycles().filter((v) => !KNOWN.includes(v))).toEqual([]);
  });

  it('every KNOWN break still exists: delete the lines of those that were fixed', () => {
    const found = new Set([...orderViolations(), ...ioViolations(), ...cycles()]);
    expect(KNOWN.filter((k) => !found.has(k))).toEqual([]);
  });
});
