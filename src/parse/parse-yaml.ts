/**
 * YAML text → document with positions. The only place that knows about the `yaml` package's
 * node types; validate/ asks it for positions by JSON path.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { PlaybookProblem, SourcePos } from '../errors.js';

/** Aliases expanded per document; far above any honest playbook, far below a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Plain JS value of the document; undefined when the document could not be converted safely. */
  value: unknown;
  problems: PlaybookProblem[];
}

export type JsonPath = ReadonlyArray<string | number>;

/** Nesting beyond this is refused before parsing: the parser recurses and would overflow the stack. */
export const MAX_NESTING = 200;

export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const tooDeep = nestingBeyond(text, MAX_NESTING);
  const doc = parseDocument(tooDeep === undefined ? text : '', {
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
    // YAML 1.2 core: `0644` is the integer 644, `yes` is a string. Octal modes are caught by validate.
    version: '1.2',
    // `<<: *defaults` merge keys (docs/language.md#merge-keys); positions follow them (mergedPair).
    merge: true,
  });
  if (tooDeep !== undefined) {
    // The empty document above parsed nothing; count lines of the real text for the position.
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
    const parsed: ParsedYaml = { file, text, doc, lineCounter, value: undefined, problems: [] };
    parsed.problems.push({
      code: 'yaml_syntax',
      message: `the document is nested more than ${MAX_NESTING} levels deep; a playbook never needs that`,
      pos: posAt(parsed, tooDeep),
    });
    return parsed;
  }
  const parsed: ParsedYaml = { file, text, doc, lineCounter, value: undefined, problems: [] };
  const problems = parsed.problems;

  for (const err of doc.errors) {
    const code = err.code === 'DUPLICATE_KEY' ? 'duplicate_key' : 'yaml_syntax';
    const message =
      code === 'duplicate_key'
        ? `duplicate key ${describeKeyAt(text, err.pos[0])}: a key may appear only once in a mapping; remove or rename one`
        : `YAML syntax error: ${err.message}`;
    problems.push({ code, message, pos: posAt(parsed, err.pos[0]) });
  }

  let unresolved = false;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        unresolved = true;
        problems.push({
          code: 'yaml_syntax',
          message: `alias *${node.source} refers to no anchor defined before it; define &${node.source} first`,
          pos: posAt(parsed, node.range?.[0] ?? 0),
        });
      }
    },
    Pair(_key, pair) {
      // Object keys are strings; a collection as key would be silently stringified.
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        problems.push({
          code: 'yaml_syntax',
          message: 'a mapping key must be a plain value, not a list or mapping',
          pos: posAt(parsed, (pair.key as YamlNode).range?.[0] ?? 0),
        });
      }
      if (isScalar(pair.key) && pair.key.value === '__proto__') {
        problems.push({
          code: 'schema',
          message: 'the key __proto__ is not allowed anywhere in a playbook; rename it',
          pos: posAt(parsed, pair.key.range?.[0] ?? 0),
        });
      }
    },
  });

  if (doc.errors.length === 0 && !unresolved) {
    try {
      parsed.value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/alias count/i.test(msg)) {
        problems.push({
          code: 'alias_limit',
          message: `too many YAML alias expansions (limit ${MAX_ALIAS_COUNT}); this looks like an alias bomb: write the values out or use fewer aliases`,
          pos: firstAliasPos(parsed),
        });
      } else {
        problems.push({ code: 'yaml_syntax', message: `YAML error: ${msg}`, pos: posAt(parsed, 0) });
      }
    }
  }
  return parsed;
}

/** 1-based line/col of a character offset. */
export function posAt(parsed: Pick<ParsedYaml, 'file' | 'lineCounter'>, offset: number): SourcePos {
  const { line, col } = parsed.lineCounter.linePos(offset);
  return { file: parsed.file, line, col };
}

/**
 * Position of the node at `path`. `which: 'key'` gives the key's position (for unknown keys),
 * `'value'` the value's (for bad values). Falls back to the deepest node that exists, so a
 * problem about a missing key points at the mapping that lacks it.
 */
export function findPos(parsed: ParsedYaml, path: JsonPath, which: 'key' | 'value' = 'value'): SourcePos {
  return posAt(parsed, findOffset(parsed, path, which));
}

export function findOffset(parsed: ParsedYaml, path: JsonPath, which: 'key' | 'value' = 'value'): number {
  let node: unknown = parsed.doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    node = deref(parsed, node);
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg)) ?? mergedPair(parsed, node, String(seg));
      if (!pair) return offset;
      if (last && which === 'key') return rangeStart(pair.key) ?? offset;
      node = pair.value;
      // `key:` with no value has no value node; blame the key.
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return offset;
      node = item;
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

/** The YAML node at `path`, or undefined. */
export function nodeAt(parsed: ParsedYaml, path: JsonPath): YamlNode | undefined {
  let node: unknown = parsed.doc.contents;
  for (const seg of path) {
    node = deref(parsed, node);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg)) ?? mergedPair(parsed, node, String(seg));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
    } else return undefined;
  }
  return (node ?? undefined) as YamlNode | undefined;
}

/** Source text of the node at `path` as written (e.g. `0644` for a number node). */
export function sourceAt(parsed: ParsedYaml, path: JsonPath): string | undefined {
  const node = nodeAt(parsed, path);
  const r = node?.range;
  return r ? parsed.text.slice(r[0], r[1]) : undefined;
}

/**
 * Position of a character inside the scalar at `path` (a template's placeholder, a name in a
 * group expression). Quoted scalars are shifted by their opening quote; escapes and block
 * scalars are not mapped, so those point at the scalar's start.
 */
export function posInScalar(parsed: ParsedYaml, path: JsonPath, offset: number): SourcePos {
  const node = nodeAt(parsed, path);
  if (isScalar(node) && node.range) {
    const start = node.range[0];
    const raw = parsed.text.slice(start, node.range[1]);
    switch (node.type) {
      case 'PLAIN':
        return posAt(parsed, start + offset);
      case 'QUOTE_SINGLE':
      case 'QUOTE_DOUBLE':
        return posAt(parsed, start + (raw.includes('\\') || raw.includes("''") ? 0 : 1 + offset));
      default:
        return posAt(parsed, start);
    }
  }
  return findPos(parsed, path, 'value');
}

/** A key a map takes from `<<: *anchor` (or `<<: [*a, *b]`, first wins): its pair where the anchor defines it. */
function mergedPair(parsed: ParsedYaml, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  if (depth > MAX_ALIAS_COUNT) return undefined;
  for (const p of map.items) {
    if (!isPair(p) || !isScalar(p.key) || typeof p.key.value !== 'symbol') continue; // the merge key `<<`
    const v = deref(parsed, p.value);
    const sources = isSeq(v) ? v.items.map((x) => deref(parsed, x)) : [v];
    for (const src of sources) {
      if (!isMap(src)) continue;
      const hit = src.items.find((q) => isPair(q) && keyString(q.key) === key) ?? mergedPair(parsed, src, key, depth + 1);
      if (hit) return hit as Pair;
    }
  }
  return undefined;
}

function deref(parsed: ParsedYaml, node: unknown): unknown {
  return isAlias(node) ? node.resolve(parsed.doc) : node;
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const r = (node as { range?: [number, number, number] }).range;
    return r?.[0];
  }
  return undefined;
}

function describeKeyAt(text: string, offset: number): string {
  const m = /^[^:\n]*/.exec(text.slice(offset, offset + 80));
  const k = m?.[0]?.trim();
  return k ? `'${k}'` : '';
}

function firstAliasPos(parsed: ParsedYaml): SourcePos {
  let at = 0;
  visit(parsed.doc, {
    Alias(_k, node) {
      at = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return posAt(parsed, at);
}

/**
 * Offset where nesting first exceeds `limit`, or undefined. A cheap over-estimate that needs no
 * parser: flow brackets plus block indentation (each deeper indent of a line, or a `- ` item,
 * counts as a level). Comments and quoted strings are skipped.
 */
function nestingBeyond(text: string, limit: number): number | undefined {
  let flow = 0;
  const indents: number[] = [];
  let lineStart = 0;
  while (lineStart <= text.length) {
    let end = text.indexOf('\n', lineStart);
    if (end < 0) end = text.length;
    const line = text.slice(lineStart, end);
    const content = /^[ -]*/.exec(line)![0];
    if (flow === 0 && line.trim() !== '' && !line.trimStart().startsWith('#')) {
      const indent = content.length;
      while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      // `- - - x` nests one level per dash.
      const dashes = (content.match(/-(?= )/g) ?? []).length;
      if (indents.length + dashes > limit) return lineStart;
    }
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === quote) quote = undefined;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '#' && (i === 0 || line[i - 1] === ' ')) break;
      else if (c === '[' || c === '{') {
        if (++flow + indents.length > limit) return lineStart + i;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    lineStart = end + 1;
  }
  return undefined;
}
