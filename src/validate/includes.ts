/**
 * `include: FILE` steps (docs/language.md#include), expanded while loading: each include is
 * replaced by the steps of FILE, recursively. Every step keeps the document and path it was
 * written at, so positions point into the file that holds it.
 */
import { dirname, relative, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { findPos, type JsonPath, type ParsedYaml } from '../parse/parse-yaml.js';
import { checkSchema } from './schema-check.js';
import { isObj, readSource } from './read-source.js';

/** One step as written, and what the includes around it add. */
export interface StepSource {
  raw: unknown;
  src: ParsedYaml;
  /** Path of the step in `src` (`['steps', 3]`). */
  path: JsonPath;
  /** `on:` of each enclosing include, outermost first: intersected with the step's own. */
  ons: Array<{ text: string; src: ParsedYaml; path: JsonPath }>;
  /** `name:` of each enclosing include, outermost first: prefixes the step's name. */
  names: string[];
  /**
   * Vars of the enclosing includes, inner winning within each layer: the included files'
   * `vars:` (defaults: the playbook's vars beat them) and the `vars:` given at each include
   * (which beat the playbook's, but not `--var`). docs/language.md#include.
   */
  defaults: Record<string, Json>;
  given: Record<string, Json>;
  /** Set for the steps of the top-level `finally:` list (and what they include). */
  phase?: 'finally';
  /** Where each enclosing `include:` is written, outermost first; empty for a step of the playbook itself. */
  via: SourcePos[];
}

/**
 * `included from b.yaml:3:5, from play.yaml:5:5`, innermost first, or '' for a step of the
 * playbook itself: for a problem in an included file that the include site must solve (the
 * same file included twice registers its names twice).
 */
export function includedFrom(via: readonly SourcePos[]): string {
  if (via.length === 0) return '';
  return `included from ${[...via]
    .reverse()
    .map((p) => `${p.file}:${p.line}:${p.col}`)
    .join(', from ')}`;
}

/** Deeper than this is surely a mistake (a cycle is caught before). */
const MAX_INCLUDE_DEPTH = 32;

export async function expandIncludes(src: ParsedYaml, problems: PlaybookProblem[]): Promise<StepSource[]> {
  const out: StepSource[] = [];
  const pb = src.value as Record<string, unknown>;
  const top = { ons: [], names: [], defaults: {}, given: {}, via: [] };
  await expand(src, Array.isArray(pb.steps) ? pb.steps : [], top, [resolve(src.file)]);
  // `finally:` steps follow `steps` in one index space (registers and positions stay unique).
  await expand(src, Array.isArray(pb.finally) ? pb.finally : [], { ...top, phase: 'finally' }, [resolve(src.file)], 'finally');
  return out;

  async function expand(
    doc: ParsedYaml,
    steps: unknown[],
    around: Pick<StepSource, 'ons' | 'names' | 'defaults' | 'given' | 'phase' | 'via'>,
    chain: string[],
    key = 'steps',
  ): Promise<void> {
    for (const [i, raw] of steps.entries()) {
      const path: JsonPath = [key, i];
      if (!isObj(raw) || typeof raw.include !== 'string') {
        out.push({ raw, src: doc, path, ...around });
        continue;
      }
      const at = findPos(doc, [...path, 'include']);
      const abs = resolve(dirname(resolve(doc.file)), raw.include);
      const shown = (f: string): string => {
        const rel = relative(process.cwd(), f);
        return rel.startsWith('..') || rel === '' ? f : rel;
      };
      if (chain.includes(abs)) {
        const cycle = [...chain.slice(chain.indexOf(abs)), abs].map(shown).join(' -> ');
        problems.push({
          code: 'cycle',
          message: `include cycle: ${cycle}; a file cannot include itself, directly or through others`,
          pos: at,
        });
        continue;
      }
      if (chain.length > MAX_INCLUDE_DEPTH) {
        problems.push({ code: 'schema', message: `includes nested more than ${MAX_INCLUDE_DEPTH} deep`, pos: at });
        continue;
      }
      const inc = await readSource(shown(abs), problems, at, 'included file');
      if (inc?.value === undefined) continue;
      if (!isObj(inc.value)) {
        problems.push({
          code: 'schema',
          message: 'an included file is a mapping with steps: [...] and optional vars:',
          pos: findPos(inc, []),
        });
        continue;
      }
      problems.push(...checkSchema(inc, inc.value, 'include'));
      const fileVars = isObj(inc.value.vars) ? (inc.value.vars as Record<string, Json>) : {};
      const given = isObj(raw.vars) ? (raw.vars as Record<string, Json>) : {};
      await expand(
        inc,
        Array.isArray(inc.value.steps) ? inc.value.steps : [],
        {
          ons: typeof raw.on === 'string' ? [...around.ons, { text: raw.on, src: doc, path: [...path, 'on'] }] : around.ons,
          names: typeof raw.name === 'string' ? [...around.names, raw.name] : around.names,
          defaults: { ...around.defaults, ...fileVars },
          given: { ...around.given, ...given },
          via: [...around.via, findPos(doc, [...path, 'include'], 'key')],
        },
        [...chain, abs],
      );
    }
  }
}
