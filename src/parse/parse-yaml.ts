/**
 * YAML text → document with positions. The only place that knows about the `yaml` package's
 * node types; validate/ asks it for positions by JSON path.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, YAMLParseError } from 'yaml';
import type { Alias, CST, Document, Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { unquotedTemplateHint } from './template-hint.js';

/**
 * Alias expansions per document, counting the aliases inside an anchored value again each time
 * that value is used. Far above any honest playbook, far below a "billion laughs".
 */
export const MAX_ALIAS_COUNT = 1000;
/** Characters of source text that aliases may copy in all (a 10 MB file's worth). */
export const MAX_ALIAS_COPY = 10_000_000;

export interface ParsedYaml {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Plain JS value of the document; undefined when the document could not be converted safely. */
  value: unknown;
  problems: PlaybookProblem[];
  /** The anchored node each alias refers to (the last anchor of that name before it). */
  aliasTargets: Map<Alias, YamlNode>;
  /**
   * Groups the file's format defines without the file naming them (an Ansible inventory's
   * `ungrouped`): a definition written anywhere wins over them, and two of them add up.
   */
  implicitGroups?: ReadonlySet<string>;
}

export type JsonPath = ReadonlyArray<string | number>;

/** Collections nested deeper than this are refused before composing: composing recurses. */
export const MAX_NESTING = 200;

export function parseYaml(file: string, text: string): ParsedYaml {
  // Lines from the text itself: the parser reports newlines only where its tokens end, which
  // after a syntax error skips lines inside the tokens it could not place.
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
  let tokens: CST.Token[];
  let tooDeep: number | undefined;
  try {
    tokens = [...new Parser().parse(text)];
    tooDeep = nestingBeyond(tokens, MAX_NESTING);
  } catch (e) {
    // The library's parser recurses per level of block nesting: a document deep enough to
    // exhaust the stack is refused like any other that is nested too deeply.
    if (!(e instanceof RangeError)) throw e;
    tokens = [];
    tooDeep = 0;
  }
  const doc = compose(tooDeep === undefined ? tokens : [], tooDeep === undefined ? text.length : 0);
  const parsed: ParsedYaml = { file, text, doc, lineCounter, value: undefined, problems: [], aliasTargets: new Map() };
  const problems = parsed.problems;
  if (tooDeep !== undefined) {
    problems.push({
      code: 'yaml_syntax',
      message: `the document is nested more than ${MAX_NESTING} levels deep; a playbook never needs that`,
      pos: posAt(parsed, tooDeep),
    });
    return parsed;
  }

  for (const err of doc.errors) {
    const hint = unquotedTemplateHint(text, err.pos[0]);
    problems.push({
      code: 'yaml_syntax',
      message: `YAML syntax error: ${err.message}${hint ? `; ${hint}` : ''}`,
      pos: posAt(parsed, err.pos[0]),
    });
    // What the parser says after an unquoted template follows from it (the braces opened a flow mapping).
    if (hint) break;
  }
  const unsafe = new Structure(parsed).check(doc.contents);
  if (doc.errors.length === 0 && !unsafe) {
    try {
      // Aliases were counted above in one pass; the library's own count walks the document again per alias.
      parsed.value = doc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      problems.push({ code: 'yaml_syntax', message: `YAML error: ${e instanceof Error ? e.message : String(e)}`, pos: posAt(parsed, 0) });
    }
  }
  return parsed;
}

/** What parseDocument does, on tokens already parsed (and checked for depth). */
function compose(tokens: CST.Token[], length: number): Document.Parsed {
  // uniqueKeys: the library compares each key with every earlier one; Structure does it with a Set.
  // logLevel: its warnings (e.g. collection keys) would go to stderr; Structure reports them.
  // merge: `<<: *defaults` merge keys (docs/language.md#merge-keys); positions follow them (mergedPair).
  const composer = new Composer({ uniqueKeys: false, version: '1.2', logLevel: 'error', merge: true });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(tokens, true, length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(
        new YAMLParseError(
          [d.range[0], d.range[1]],
          'MULTIPLE_DOCS',
          'the file holds a second YAML document (after a `---` line); a playbook, inventory or vars file is one document: remove the `---` or split the file',
        ),
      );
      break;
    }
  }
  return doc!;
}

interface Weight {
  /** Alias expansions needed to build the node's value. */
  aliases: number;
  /** Characters of source the node's value spans once its aliases are expanded. */
  chars: number;
}

/**
 * One pass over the composed document: resolves every alias (the last anchor of its name before
 * it, as the library does), refuses aliases inside their own anchor (a value containing itself),
 * counts alias expansions, and checks keys: duplicates, collections as keys, __proto__.
 */
class Structure {
  private readonly anchors = new Map<string, YamlNode>();
  private readonly weights = new Map<YamlNode, Weight>();
  private readonly open = new Set<YamlNode>();
  private aliases = 0;
  private copied = 0;
  private unsafe = false;
  private limitReported = false;

  constructor(private readonly parsed: ParsedYaml) {}

  /** True when the document must not be converted to a JS value. */
  check(root: unknown): boolean {
    this.walk(root);
    return this.unsafe;
  }

  private problem(code: PlaybookProblem['code'], message: string, offset: number): void {
    this.parsed.problems.push({ code, message, pos: posAt(this.parsed, offset) });
  }

  private walk(node: unknown): Weight {
    if (isAlias(node)) return this.alias(node);
    if (!node || typeof node !== 'object') return { aliases: 0, chars: 0 };
    const n = node as YamlNode;
    if (n.anchor) {
      this.anchors.set(n.anchor, n);
      this.open.add(n);
    }
    const len = n.range ? n.range[1] - n.range[0] : 0;
    const w: Weight = { aliases: 0, chars: len };
    const add = (x: Weight): void => {
      w.aliases += x.aliases;
      w.chars += x.chars;
    };
    if (isMap(n)) {
      const seen = new Set<string>();
      for (const pair of n.items) {
        this.key(pair, seen);
        add(this.walk(pair.key));
        add(this.walk(pair.value));
      }
    } else if (isSeq(n)) {
      for (const item of n.items) add(this.walk(item));
    }
    if (n.anchor) {
      this.open.delete(n);
      this.weights.set(n, w);
    }
    return w;
  }

  private alias(node: Alias): Weight {
    const at = node.range?.[0] ?? 0;
    const target = this.anchors.get(node.source);
    if (!target) {
      this.unsafe = true;
      this.problem('yaml_syntax', `alias *${node.source} refers to no anchor defined before it; define &${node.source} first`, at);
      return { aliases: 0, chars: 0 };
    }
    this.parsed.aliasTargets.set(node, target);
    if (this.open.has(target)) {
      this.unsafe = true;
      this.problem(
        'cycle',
        `alias *${node.source} is inside the value anchored &${node.source}, so that value would contain itself; write the inner value out instead`,
        at,
      );
      return { aliases: 0, chars: 0 };
    }
    const t = this.weights.get(target) ?? { aliases: 0, chars: 0 };
    const w = { aliases: 1 + t.aliases, chars: t.chars };
    if (!this.limitReported) {
      this.aliases += w.aliases;
      this.copied += w.chars;
      if (this.aliases > MAX_ALIAS_COUNT) {
        this.unsafe = this.limitReported = true;
        this.problem(
          'alias_limit',
          `too many YAML alias expansions (limit ${MAX_ALIAS_COUNT}); this looks like an alias bomb: write the values out or use fewer aliases`,
          at,
        );
      } else if (this.copied > MAX_ALIAS_COPY) {
        this.unsafe = this.limitReported = true;
        this.problem(
          'alias_limit',
          `YAML aliases copy more than ${MAX_ALIAS_COPY / 1_000_000} MB of text in all; this looks like an alias bomb: write the values out or use fewer aliases`,
          at,
        );
      }
    }
    return w;
  }

  /** Keys become JS object keys: they must be strings (or scalars, written as strings), each once. */
  private key(pair: Pair, seen: Set<string>): void {
    const key = pair.key;
    const at = (key as YamlNode | null)?.range?.[0] ?? (pair.value as YamlNode | null)?.range?.[0] ?? 0;
    const resolved = isAlias(key) ? this.anchors.get(key.source) : key;
    if (
      resolved !== null &&
      resolved !== undefined &&
      !(isScalar(resolved) && (resolved.value === null || typeof resolved.value !== 'object'))
    ) {
      this.unsafe = true;
      this.problem('yaml_syntax', 'mapping keys must be plain strings, not a list or mapping; write this key as a string', at);
      return;
    }
    const name = keyString(resolved) ?? '';
    if (name === '__proto__') {
      this.problem('schema', 'the key __proto__ is not allowed anywhere in a playbook; rename it', at);
    }
    // Not unsafe: the value keeps the last one, and the rest of the file is still checked, so
    // `validate` reports every problem at once.
    if (seen.has(name)) {
      this.problem(
        'duplicate_key',
        `duplicate key ${describeKeyAt(this.parsed.text, at)}: a key may appear only once in a mapping; remove or rename one`,
        at,
      );
    }
    seen.add(name);
  }
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
      const pair = pairOf(parsed, node, seg) ?? mergedPair(parsed, node, String(seg));
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
      const pair = pairOf(parsed, node, seg) ?? mergedPair(parsed, node, String(seg));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
    } else return undefined;
  }
  return (node ?? undefined) as YamlNode | undefined;
}

const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

/**
 * The pair of `key` in a mapping. Validation looks up a position for every host, step and arg;
 * an index per mapping keeps that linear in the size of the file.
 */
function pairOf(parsed: ParsedYaml, map: YAMLMap, key: string | number): Pair | undefined {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (!isPair(p)) continue;
      const k = keyString(deref(parsed, p.key));
      if (k !== undefined && !index.has(k)) index.set(k, p);
    }
    pairIndex.set(map, index);
  }
  return index.get(String(key));
}

/**
 * The entries of `obj`, the plain value of the mapping at `path`, in the order the file writes
 * them. A JS object lists keys that look like array indices (`"20"`, `"3"`) first, in numeric
 * order, and hosts and groups keep definition order whatever their names. Keys the mapping gets
 * from a merge key (`<<: *defaults`) follow its own keys, in the object's order.
 */
export function entriesInOrder<T>(parsed: ParsedYaml, path: JsonPath, obj: Record<string, T>): Array<[string, T]> {
  const node = deref(parsed, nodeAt(parsed, path));
  const own = Object.keys(obj);
  if (!isMap(node)) return own.map((k) => [k, obj[k]!]);
  const keys = new Set<string>();
  for (const p of node.items) {
    const k = isPair(p) ? keyString(deref(parsed, p.key)) : undefined;
    if (k !== undefined && Object.hasOwn(obj, k)) keys.add(k);
  }
  for (const k of own) keys.add(k);
  return [...keys].map((k) => [k, obj[k]!]);
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
      if (hit) return hit;
    }
  }
  return undefined;
}

function deref(parsed: ParsedYaml, node: unknown): unknown {
  return isAlias(node) ? parsed.aliasTargets.get(node) : node;
}

function keyString(key: unknown): string | undefined {
  // As the library turns keys into JS object keys.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- String() is exactly what the library does
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value);
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

/**
 * Offset of the first (in the text) collection nested deeper than `limit`, or undefined. Measured on the
 * parser's tokens (collections only; brackets inside scalars are text), with a loop rather than
 * recursion, since the point is to stop input that would make composing recurse too deep.
 */
function nestingBeyond(tokens: CST.Token[], limit: number): number | undefined {
  let first: number | undefined;
  const stack: Array<[CST.Token | null | undefined, number]> = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [tok, depth] = stack.pop()!;
    if (!tok) continue;
    switch (tok.type) {
      case 'document':
        stack.push([tok.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limit) {
          first = Math.min(first ?? tok.offset, tok.offset);
          break;
        }
        for (const item of tok.items) {
          if ('key' in item) stack.push([item.key, depth + 1]);
          if ('value' in item) stack.push([item.value, depth + 1]);
        }
        break;
      }
      default:
        break;
    }
  }
  return first;
}
