/**
 * Pass 1 of validation: all file I/O. Reads the playbook and its inventories (schema-checked),
 * and imports custom callables' modules for their `schema` and `readonly` exports. The passes
 * after it (normalise, rules) only look at what this one read.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { lstatSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { findPos, parseYaml, type ParsedYaml } from '../parse/parse-yaml.js';
import { builtinSignature } from './builtin-signatures.js';
import { loadCustomCallableInfo, splitCallableSpec, type CustomCallableInfo } from './custom-callables.js';
import { checkSchema } from './schema-check.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

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
  callables: CustomCallable[];
  /** What is at a local path (put sources), looked up once per path. */
  localPath(path: string): 'file' | 'folder' | 'missing' | 'other';
}

const at = (file: string): SourcePos => ({ file, line: 1, col: 1 });

async function readSource(file: string, problems: PlaybookProblem[], blame: SourcePos, what: string): Promise<ParsedYaml | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? { code: 'file_not_found', message: `${what} ${file} does not exist`, pos: blame }
        : { code: 'io', message: `cannot read ${what} ${file}: ${(e as Error).message}`, pos: blame },
    );
    return undefined;
  }
  const parsed = parseYaml(file, text);
  problems.push(...parsed.problems);
  return parsed;
}

export async function loadSources(file: string, inventory: readonly string[], problems: PlaybookProblem[]): Promise<Loaded | undefined> {
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
  const seen = new Set<string>();
  for (const { path, blame } of invPaths) {
    if (seen.has(resolve(path))) continue;
    seen.add(resolve(path));
    const inv = await readSource(path, problems, blame, 'inventory file');
    if (inv?.value === undefined || inv.value === null) continue;
    if (!isObj(inv.value)) {
      problems.push({ code: 'schema', message: 'an inventory file is a mapping with hosts, groups and vars', pos: findPos(inv, []) });
      continue;
    }
    problems.push(...checkSchema(inv, inv.value, 'inventory'));
    inventories.push(inv);
  }

  const callables = await loadCallables(src, pb.callables, baseDir, problems);
  const seenPaths = new Map<string, 'file' | 'folder' | 'missing' | 'other'>();
  return {
    file,
    baseDir,
    sha256: createHash('sha256').update(src.text).digest('hex'),
    src,
    pb,
    inventories,
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
