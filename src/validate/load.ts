/**
 * Pass 1 of validation: all file I/O. Reads the playbook and its inventories (schema-checked),
 * and imports custom callables' modules for their `schema` and `readonly` exports. The passes
 * after it (normalise, rules) only look at what this one read.
 */
import { createHash } from 'node:crypto';
import { lstatSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { findPos, type ParsedYaml } from '../parse/parse-yaml.js';
import { builtinSignature } from '../callables/builtins.js';
import { loadCustomCallableInfo, splitCallableSpec, type CustomCallableInfo } from './custom-callables.js';
import { checkSchema } from './schema-check.js';
import { expandIncludes, type StepSource } from './includes.js';
import { convertAnsibleYaml, convertIni, inventoryFormat } from './ansible-inventory.js';
import type { Json } from '../model/playbook.js';

import { isObj, readSource, type Obj } from './read-source.js';

export { isObj, readSource, type Obj } from './read-source.js';

export interface CustomCallable {
  name: string;
  pos: SourcePos;
  /** Module and export, also when loading failed (reported). */
  module: string;
  exportName: string;
  info?: CustomCallableInfo;
}

export interface Loaded {
  file: string;
  baseDir: string;
  sha256: string;
  src: ParsedYaml;
  /** The playbook's top-level mapping. */
  pb: Obj;
  /** Inventory documents in the order they merge (the playbook's own `inventory:` first). */
  inventories: ParsedYaml[];
  /** `vars_files:` values, in the order they apply (later wins). */
  varsFiles: Array<Record<string, Json>>;
  /** `--var @FILE` values, in the order they apply: over vars_files and includes, under `--var K=V`. */
  extraVarFiles: Array<Record<string, Json>>;
  /** The steps with every `include:` replaced by the included file's steps (./includes.ts). */
  steps: StepSource[];
  /** Non-fatal findings (printed as `FILE:LINE:COL: warning: ...`; `validate` still passes). */
  warnings: PlaybookProblem[];
  callables: CustomCallable[];
  /** What is at a local path (put sources), looked up once per path. */
  localPath(path: string): 'file' | 'folder' | 'missing' | 'other';
}

const at = (file: string): SourcePos => ({ file, line: 1, col: 1 });

export async function loadSources(
  file: string,
  inventory: readonly string[],
  problems: PlaybookProblem[],
  cliVarFiles: readonly string[] = [],
): Promise<Loaded | undefined> {
  const src = await readSource(file, problems, at(file), 'playbook');
  if (src?.value === undefined) return undefined;
  if (!isObj(src.value)) {
    problems.push({ code: 'schema', message: 'a playbook is a mapping with version: 1 and steps: [...]', pos: findPos(src, []) });
    return undefined;
  }
  problems.push(...checkSchema(src, src.value, 'playbook'));
  const pb = src.value;
  const baseDir = dirname(resolve(file));

  // Inventories: the playbook's own `inventory:` first, then --inventory files.
  const invPaths: Array<{ path: string; blame: SourcePos }> = [];
  const listed: unknown[] = typeof pb.inventory === 'string' ? [pb.inventory] : Array.isArray(pb.inventory) ? pb.inventory : [];
  listed.forEach((p, i) => {
    if (typeof p !== 'string') return;
    const blamePath = typeof pb.inventory === 'string' ? ['inventory'] : ['inventory', i];
    // Shown relative to the working directory, like the playbook path usually is.
    const abs = resolve(baseDir, p);
    const rel = relative(process.cwd(), abs);
    invPaths.push({ path: rel.startsWith('..') || rel === '' ? abs : rel, blame: findPos(src, blamePath) });
  });
  for (const p of inventory) invPaths.push({ path: resolve(p), blame: at(p) });
  const inventories: ParsedYaml[] = [];
  const warnings: PlaybookProblem[] = [];
  const seen = new Set<string>();
  for (const { path, blame } of invPaths) {
    if (seen.has(resolve(path))) continue;
    seen.add(resolve(path));
    const inv = await readInventory(path, problems, warnings, blame);
    if (inv?.value === undefined || inv.value === null) continue;
    if (!isObj(inv.value)) {
      problems.push({ code: 'schema', message: 'an inventory file is a mapping with hosts, groups and vars', pos: findPos(inv, []) });
      continue;
    }
    problems.push(...checkSchema(inv, inv.value, 'inventory'));
    inventories.push(inv);
  }

  const varsFiles: Array<Record<string, Json>> = [];
  const vfList = Array.isArray(pb.vars_files) ? pb.vars_files : [];
  for (const [i, p] of vfList.entries()) {
    if (typeof p !== 'string') continue;
    const vars = await readVarsFile(resolve(baseDir, p), findPos(src, ['vars_files', i]), problems);
    if (vars) varsFiles.push(vars);
  }
  const extraVarFiles: Array<Record<string, Json>> = [];
  for (const p of cliVarFiles) {
    const vars = await readVarsFile(resolve(p), at(`--var @${p}`), problems);
    if (vars) extraVarFiles.push(vars);
  }
  const steps = await expandIncludes(src, problems);

  const callables = await loadCallables(src, pb.callables, baseDir, problems);
  const seenPaths = new Map<string, 'file' | 'folder' | 'missing' | 'other'>();
  return {
    file,
    baseDir,
    sha256: createHash('sha256').update(src.text).digest('hex'),
    src,
    pb,
    inventories,
    varsFiles,
    extraVarFiles,
    steps,
    warnings,
    callables,
    localPath(path) {
      let kind = seenPaths.get(path);
      if (kind === undefined) {
        kind = lookPath(path);
        seenPaths.set(path, kind);
      }
      return kind;
    },
  };
}

/** An inventory file: ours, or Ansible's INI or YAML (told apart by content, ./ansible-inventory.ts). */
async function readInventory(
  path: string,
  problems: PlaybookProblem[],
  warnings: PlaybookProblem[],
  blame: SourcePos,
): Promise<ParsedYaml | undefined> {
  const own: PlaybookProblem[] = [];
  const parsed = await readSource(path, own, blame, 'inventory file');
  if (!parsed) {
    problems.push(...own);
    return undefined;
  }
  const format = inventoryFormat(parsed);
  if (format === 'chopsticks') {
    problems.push(...own);
    return parsed;
  }
  const converted = format === 'ansible-ini' ? convertIni(parsed.file, parsed.text, problems) : convertAnsibleYaml(parsed, problems);
  warnings.push(...converted.warnings);
  return converted.doc;
}

/** A `vars_files:` entry or `--var @FILE`: a YAML or JSON mapping of typed vars. */
async function readVarsFile(path: string, blame: SourcePos, problems: PlaybookProblem[]): Promise<Record<string, Json> | undefined> {
  const doc = await readSource(path, problems, blame, 'vars file');
  if (doc?.value === undefined) return undefined;
  if (doc.value === null) return {};
  if (!isObj(doc.value)) {
    problems.push({ code: 'schema', message: 'a vars file is a mapping of NAME: value', pos: findPos(doc, []) });
    return undefined;
  }
  for (const k of Object.keys(doc.value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      problems.push({
        code: 'schema',
        message: `'${k}' is not a valid variable name: use letters, digits and '_'`,
        pos: findPos(doc, [k], 'key'),
      });
    }
  }
  return doc.value as Record<string, Json>;
}

function lookPath(path: string): 'file' | 'folder' | 'missing' | 'other' {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    // A dangling symlink exists but cannot be read: "other", so the message is not "missing".
    try {
      lstatSync(path);
      return 'other';
    } catch {
      return 'missing';
    }
  }
}

async function loadCallables(src: ParsedYaml, raw: unknown, baseDir: string, problems: PlaybookProblem[]): Promise<CustomCallable[]> {
  const out: CustomCallable[] = [];
  if (!isObj(raw)) return out;
  for (const [name, spec] of Object.entries(raw)) {
    if (typeof spec !== 'string') continue;
    const pos = findPos(src, ['callables', name], 'key');
    if (builtinSignature(name)) {
      problems.push({ code: 'callable_load', message: `callable '${name}' is a built-in; give your callable another name`, pos });
      continue;
    }
    const r = await loadCustomCallableInfo(name, spec, baseDir);
    if (!r.ok) {
      problems.push({ code: 'callable_load', message: r.message, pos: findPos(src, ['callables', name]) });
      out.push({ name, pos, ...splitCallableSpec(spec, baseDir) });
      continue;
    }
    out.push({ name, pos, module: r.info.module, exportName: r.info.exportName, info: r.info });
  }
  return out;
}
