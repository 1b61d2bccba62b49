/**
 * Playbook file (+ inventories) → validated model, or every problem found, in three passes:
 * load (./load.ts: all file I/O) → normalise (./normalise.ts: raw YAML → model, expressions
 * parsed once) → rules (./rules/: one check each). Problems are collected, never thrown: one
 * run of `validate` shows them all.
 */
import type { PlaybookProblem } from '../errors.js';
import type { Playbook } from './model.js';
import { closest } from '../lang/groups.js';
import { loadSources } from './load.js';
import { normalise, type Normalised } from './normalise.js';
import { checkGroups } from './rules/groups.js';
import { checkHosts } from './rules/hosts.js';
import { checkCommandLineExpr } from './rules/limit.js';
import { checkStepKinds } from './rules/step-kinds.js';
import { checkStepRefs } from './rules/step-refs.js';
import type { Rule } from './rules/types.js';

export interface LoadOptions {
  /** `--inventory` files, relative to the working directory. */
  inventory?: string[];
  /** `--var K=V` overrides (string values). */
  vars?: Record<string, string>;
  /** `--var @FILE`: YAML or JSON files of typed vars, over `vars_files:`, under `--var K=V`. */
  varFiles?: string[];
  /** `--limit EXPR`: checked here, intersected with every step's targets by the compiler. */
  limit?: string;
}

export interface LoadResult {
  playbook?: Playbook;
  problems: PlaybookProblem[];
  /** Non-fatal: printed as `FILE:LINE:COL: warning: ...`, never a reason to refuse the playbook. */
  warnings: PlaybookProblem[];
}

export const RULES: readonly Rule[] = [checkHosts, checkGroups, checkStepRefs, checkStepKinds];

export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const problems: PlaybookProblem[] = [];
  const loaded = await loadSources(file, opts.inventory ?? [], problems, opts.varFiles ?? []);
  if (!loaded) return { problems: dedupe(problems), warnings: [] };
  const model = normalise(loaded, opts.vars ?? {}, problems);
  const add: Parameters<Rule>[1] = (code, message, pos) => problems.push({ code, message, pos });
  for (const rule of RULES) rule(model, add);
  if (opts.limit !== undefined) {
    const filterGroups = model.playbook.steps.flatMap((s) => (s.kind === 'filter' ? [s.as.value] : []));
    const expr = checkCommandLineExpr('--limit', opts.limit, model.playbook, problems, { filterGroups, registers: [] });
    if (expr) model.playbook.limit = { text: opts.limit, expr };
  }
  const all = dedupe(problems);
  const warnings = [...dedupe(loaded.warnings), ...unknownVarWarnings(model, opts.vars ?? {})];
  return all.length ? { problems: all, warnings } : { playbook: model.playbook, problems: [], warnings };
}

/**
 * A --var the playbook neither declares (vars: of the playbook, its inventories, vars files and
 * includes) nor reads (vars.NAME anywhere in its files or its templates) is most likely
 * misspelt: say so, with the closest name.
 */
function unknownVarWarnings(model: Normalised, cliVars: Record<string, string>): PlaybookProblem[] {
  const { loaded } = model;
  const known = new Set<string>();
  const declare = (v: unknown) => {
    if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) known.add(k);
  };
  const mention = (text: string) => {
    for (const m of text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)) known.add(m[1]!);
  };
  const docs = new Set([...loaded.inventories, loaded.src, ...loaded.steps.map((s) => s.src)]);
  for (const doc of docs) {
    declare((doc.value as { vars?: unknown } | undefined)?.vars);
    mention(doc.text);
  }
  for (const vf of [...loaded.varsFiles, ...loaded.extraVarFiles]) declare(vf);
  for (const s of loaded.steps) declare(s.given);
  for (const text of model.mentioned) mention(text);
  return Object.keys(cliVars)
    .filter((name) => !known.has(name))
    .map((name) => {
      const hint = closest(name, known);
      const message = `--var ${name}: the playbook has no variable '${name}'${hint ? `; did you mean '${hint}'?` : known.size ? ` (it has: ${[...known].join(', ')})` : ''}`;
      return { code: 'unknown_name' as const, message, pos: { file: '--var', line: 1, col: 1 } };
    });
}

/** Unique problems, by file (in order of first appearance), then line and column. */
function dedupe(problems: PlaybookProblem[]): PlaybookProblem[] {
  const seen = new Set<string>();
  const fileOrder = new Map<string, number>();
  for (const p of problems) if (!fileOrder.has(p.pos.file)) fileOrder.set(p.pos.file, fileOrder.size);
  const sorted = [...problems].sort(
    (a, b) => fileOrder.get(a.pos.file)! - fileOrder.get(b.pos.file)! || a.pos.line - b.pos.line || a.pos.col - b.pos.col,
  );
  return sorted.filter((p) => {
    const k = `${p.pos.file}:${p.pos.line}:${p.pos.col}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
