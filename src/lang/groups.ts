/**
 * Group expressions (docs/language.md#groups-and-set-algebra): parsing, evaluation, static bounds, formatting, hints.
 *
 * Grammar (Python set precedence, tightest first; all operators left-associative):
 *   or    := xor ('|' xor)*
 *   xor   := and ('^' and)*
 *   and   := add ('&' add)*
 *   add   := atom (('+' | '-') atom)*
 *   atom  := NAME | GLOB | OUTCOME '(' NAME ')' | '(' or ')'
 * A NAME may contain '-', so `a-b` is one name and difference needs a token boundary
 * (`a - b`, `a -b`). Size limits keep every recursive walk far from the JS stack limit,
 * whatever text a user (or a fuzzer) writes.
 */
import type { GroupExpr, HostBounds, Outcome, SetOp } from './group-expr.js';

export type { GroupExpr, Outcome, SetOp } from './group-expr.js';
export type { HostBounds } from './group-expr.js';

export type ParseGroupResult = { ok: true; expr: GroupExpr } | { ok: false; message: string; offset: number };

/** More operators than any real playbook needs; bounds tree depth (every walk is recursive). */
export const MAX_OPERATORS = 1000;
/** Parenthesis nesting limit; bounds parser recursion. */
export const MAX_PAREN_DEPTH = 200;

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['ok', 'failed', 'changed', 'unreachable']);
const NAME_START = /[A-Za-z0-9]/;
const NAME_CHAR = /[A-Za-z0-9._-]/;

type Token =
  | { kind: 'name'; text: string; pos: number }
  | { kind: 'glob'; pattern: string; pos: number }
  | { kind: 'op'; op: SetOp; pos: number }
  | { kind: '('; pos: number }
  | { kind: ')'; pos: number }
  | { kind: 'end'; pos: number };

class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (NAME_START.test(c)) {
      const start = i;
      while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
      tokens.push({ kind: 'name', text: text.slice(start, i), pos: start });
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new ExprSyntaxError(`unclosed quote ${c} in glob; close it with ${c}`, i);
      const pattern = text.slice(i + 1, end);
      if (pattern === '') throw new ExprSyntaxError("empty glob: write a pattern such as 'web*'", i);
      tokens.push({ kind: 'glob', pattern, pos: i });
      i = end + 1;
    } else if (c === '+' || c === '-' || c === '&' || c === '^' || c === '|') {
      tokens.push({ kind: 'op', op: c, pos: i });
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, pos: i });
      i++;
    } else {
      throw new ExprSyntaxError(
        `unexpected character '${c}': names use letters, digits, '.', '_' and '-'; operators are + - & ^ | and parentheses`,
        i,
      );
    }
  }
  tokens.push({ kind: 'end', pos: text.length });
  return tokens;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'name':
      return `'${t.text}'`;
    case 'glob':
      return `glob '${t.pattern}'`;
    case 'op':
      return `'${t.op}'`;
    case '(':
    case ')':
      return `'${t.kind}'`;
    case 'end':
      return 'the end';
  }
}

const LEVELS: ReadonlyArray<ReadonlySet<SetOp>> = [new Set(['|']), new Set(['^']), new Set(['&']), new Set(['+', '-'])];

class Parser {
  private i = 0;
  private operators = 0;
  private parens = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  parseAll(): GroupExpr {
    if (this.peek().kind === 'end') throw new ExprSyntaxError('empty group expression: write a group or host name, or all', 0);
    const expr = this.level(0);
    const t = this.peek();
    if (t.kind === ')') throw new ExprSyntaxError("unmatched ')'", t.pos);
    if (t.kind !== 'end') throw this.missingOperator(t);
    return expr;
  }

  private missingOperator(t: Token): ExprSyntaxError {
    const prev = this.tokens[this.i - 1];
    let hint = '';
    if (prev?.kind === 'name' && prev.text.endsWith('-'))
      hint = `; for a difference put spaces around '-': '${prev.text.slice(0, -1)} - ...'`;
    const after = prev ? ` after ${describe(prev)}` : '';
    return new ExprSyntaxError(`expected an operator (+ - & ^ |) before ${describe(t)}${after}${hint}`, t.pos);
  }

  private level(n: number): GroupExpr {
    if (n === LEVELS.length) return this.atom(undefined);
    const ops = LEVELS[n]!;
    let left = this.level(n + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !ops.has(t.op)) return left;
      this.i++;
      if (++this.operators > MAX_OPERATORS) {
        throw new ExprSyntaxError(`group expression has more than ${MAX_OPERATORS} operators; define intermediate groups`, t.pos);
      }
      const right = n + 1 === LEVELS.length ? this.atom(t) : this.levelAfter(n + 1, t);
      left = { type: 'binary', op: t.op, left, right, pos: t.pos };
    }
  }

  /** Like level(), but an operand that is missing is blamed on the operator before it. */
  private levelAfter(n: number, op: Token): GroupExpr {
    this.expectOperand(op);
    return this.level(n);
  }

  private expectOperand(op: Token | undefined): void {
    const t = this.peek();
    if (t.kind === 'name' || t.kind === 'glob' || t.kind === '(') return;
    if (op?.kind === 'op') throw new ExprSyntaxError(`expected a group name after '${op.op}', found ${describe(t)}`, t.pos);
    if (t.kind === 'end') throw new ExprSyntaxError('expected a group name, found the end', t.pos);
    throw new ExprSyntaxError(`expected a group name, found ${describe(t)}`, t.pos);
  }

  private atom(op: Token | undefined): GroupExpr {
    this.expectOperand(op);
    const t = this.peek();
    this.i++;
    switch (t.kind) {
      case 'glob':
        return { type: 'glob', pattern: t.pattern, pos: t.pos };
      case '(': {
        if (++this.parens > MAX_PAREN_DEPTH) {
          throw new ExprSyntaxError(`parentheses nested deeper than ${MAX_PAREN_DEPTH}`, t.pos);
        }
        if (this.peek().kind === ')') throw new ExprSyntaxError("empty '()': put a group name inside", this.peek().pos);
        const inner = this.level(0);
        const close = this.peek();
        if (close.kind !== ')') {
          if (close.kind === 'end') throw new ExprSyntaxError("unclosed '('", t.pos);
          throw this.missingOperator(close);
        }
        this.i++;
        this.parens--;
        return inner;
      }
      case 'name': {
        if (OUTCOMES.has(t.text) && this.peek().kind === '(') return this.outcome(t.text as Outcome, t.pos);
        return { type: 'name', name: t.text, pos: t.pos };
      }
      case 'op':
      case ')':
      case 'end':
        // expectOperand has already thrown for these.
        throw new ExprSyntaxError(`expected a group name, found ${describe(t)}`, t.pos);
    }
  }

  private outcome(outcome: Outcome, pos: number): GroupExpr {
    const open = this.peek();
    this.i++;
    const reg = this.peek();
    if (reg.kind !== 'name') {
      throw new ExprSyntaxError(`expected a register name inside ${outcome}(...), found ${describe(reg)}`, reg.pos);
    }
    this.i++;
    const close = this.peek();
    if (close.kind !== ')') {
      if (close.kind === 'end') throw new ExprSyntaxError(`unclosed '(' in ${outcome}(${reg.text}`, open.pos);
      throw new ExprSyntaxError(`expected ')' after ${outcome}(${reg.text}, found ${describe(close)}`, close.pos);
    }
    this.i++;
    return { type: 'outcome', outcome, register: reg.text, pos };
  }
}

export function parseGroupExpr(text: string): ParseGroupResult {
  try {
    const expr = new Parser(tokenize(text)).parseAll();
    return { ok: true, expr };
  } catch (e) {
    if (e instanceof ExprSyntaxError) return { ok: false, message: e.message, offset: e.offset };
    throw e;
  }
}

/** Plain names referenced (groups or hosts), in text order. */
export function namesIn(expr: GroupExpr): Array<{ name: string; pos: number }> {
  const out: Array<{ name: string; pos: number }> = [];
  walk(expr, (e) => {
    if (e.type === 'name') out.push({ name: e.name, pos: e.pos });
  });
  return out;
}

/** Outcome sets referenced (`failed(deploy)`), in text order. */
export function outcomesIn(expr: GroupExpr): Array<{ outcome: Outcome; register: string; pos: number }> {
  const out: Array<{ outcome: Outcome; register: string; pos: number }> = [];
  walk(expr, (e) => {
    if (e.type === 'outcome') out.push({ outcome: e.outcome, register: e.register, pos: e.pos });
  });
  return out;
}

function walk(expr: GroupExpr, visit: (e: GroupExpr) => void): void {
  switch (expr.type) {
    case 'binary':
      walk(expr.left, visit);
      visit(expr);
      walk(expr.right, visit);
      return;
    case 'name':
    case 'glob':
    case 'outcome':
      visit(expr);
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Globs: shell-style `*`, `?`, `[abc]`, `[a-z]`, `[!abc]` / `[^abc]`, matched on host names.

// Matched by a two-pointer wildcard walk, not a RegExp: `'*a*a*a*a*b'` would make a
// backtracking regex exponential; this is O(pattern × name) whatever the pattern.

type GlobToken = { t: 'star' } | { t: 'any' } | { t: 'class'; negate: boolean; ranges: Array<[string, string]> } | { t: 'char'; c: string };

const globCache = new Map<string, GlobToken[]>();

function compileGlob(pattern: string): GlobToken[] {
  const cached = globCache.get(pattern);
  if (cached) return cached;
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (tokens.at(-1)?.t !== 'star') tokens.push({ t: 'star' });
    } else if (c === '?') tokens.push({ t: 'any' });
    else if (c === '[') {
      let j = i + 1;
      const negate = pattern[j] === '!' || pattern[j] === '^';
      if (negate) j++;
      const bodyStart = j;
      if (pattern[j] === ']') j++; // a leading ']' is a member, as in fnmatch
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        tokens.push({ t: 'char', c: '[' }); // no closing ']': a literal '['
        continue;
      }
      const body = pattern.slice(bodyStart, j);
      const ranges: Array<[string, string]> = [];
      for (let k = 0; k < body.length; k++) {
        const lo = body[k]!;
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([lo, body[k + 2]!]);
          k += 2;
        } else ranges.push([lo, lo]);
      }
      tokens.push({ t: 'class', negate, ranges });
      i = j;
    } else tokens.push({ t: 'char', c });
  }
  if (globCache.size > 1000) globCache.clear();
  globCache.set(pattern, tokens);
  return tokens;
}

function matchOne(tok: GlobToken, ch: string): boolean {
  switch (tok.t) {
    case 'any':
      return true;
    case 'char':
      return tok.c === ch;
    case 'class': {
      const inside = tok.ranges.some(([lo, hi]) => lo <= ch && ch <= hi);
      return inside !== tok.negate;
    }
    case 'star':
      return false;
  }
}

function globTest(tokens: GlobToken[], name: string): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < name.length) {
    const tok = tokens[p];
    if (tok?.t === 'star') {
      starP = p++;
      starS = s;
    } else if (tok && matchOne(tok, name[s]!)) {
      p++;
      s++;
    } else if (starP >= 0) {
      // Let the last star swallow one more character and retry from there.
      p = starP + 1;
      s = ++starS;
    } else return false;
  }
  while (tokens[p]?.t === 'star') p++;
  return p === tokens.length;
}

/** Host names matching a shell-style glob, in the order given. */
export function globMatch(pattern: string, hostNames: string[]): string[] {
  const tokens = compileGlob(pattern);
  return hostNames.filter((h) => globTest(tokens, h));
}

// ---------------------------------------------------------------------------------------
// Evaluation

export interface SetEnv {
  /** Every host, in definition order. */
  all: string[];
  /** A group's hosts, or `[host]` for a host; undefined when the name is unknown. `all` never gets here. */
  resolve(name: string): string[] | undefined;
  outcome(outcome: Outcome, register: string): string[];
}

function unknownName(name: string): Error {
  return new Error(`internal: group expression names '${name}', which validation should have rejected`);
}

function evalSet(expr: GroupExpr, env: SetEnv): Set<string> {
  switch (expr.type) {
    case 'name': {
      // `all` is built in: every environment already knows its hosts.
      const hosts = expr.name === 'all' ? env.all : env.resolve(expr.name);
      if (!hosts) throw unknownName(expr.name);
      return new Set(hosts);
    }
    case 'glob':
      return new Set(globMatch(expr.pattern, env.all));
    case 'outcome':
      return new Set(env.outcome(expr.outcome, expr.register));
    case 'binary': {
      const a = evalSet(expr.left, env);
      const b = evalSet(expr.right, env);
      return applyOp(expr.op, a, b);
    }
  }
}

function union(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set(a);
  for (const x of b) out.add(x);
  return out;
}
function intersect(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}
function minus(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) if (!b.has(x)) out.add(x);
  return out;
}

function applyOp(op: SetOp, a: Set<string>, b: Set<string>): Set<string> {
  switch (op) {
    case '+':
    case '|':
      return union(a, b);
    case '-':
      return minus(a, b);
    case '&':
      return intersect(a, b);
    case '^':
      return union(minus(a, b), minus(b, a));
  }
}

function inOrder(all: string[], set: Set<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of all) {
    if (set.has(h) && !seen.has(h)) {
      seen.add(h);
      out.push(h);
    }
  }
  return out;
}

/** The hosts an expression denotes, in definition order of `env.all`, without duplicates. */
export function evalGroupExpr(expr: GroupExpr, env: SetEnv): string[] {
  return inOrder(env.all, evalSet(expr, env));
}

export interface BoundsEnv {
  all: string[];
  resolve(name: string): HostBounds | undefined;
  outcome(outcome: Outcome, register: string): HostBounds;
}

interface SetBounds {
  lower: Set<string>;
  upper: Set<string>;
}

function evalBounds(expr: GroupExpr, env: BoundsEnv): SetBounds {
  switch (expr.type) {
    case 'name': {
      const b = expr.name === 'all' ? { lower: env.all, upper: env.all } : env.resolve(expr.name);
      if (!b) throw unknownName(expr.name);
      return { lower: new Set(b.lower), upper: new Set(b.upper) };
    }
    case 'glob': {
      const hosts = new Set(globMatch(expr.pattern, env.all));
      return { lower: hosts, upper: new Set(hosts) };
    }
    case 'outcome': {
      const b = env.outcome(expr.outcome, expr.register);
      return { lower: new Set(b.lower), upper: new Set(b.upper) };
    }
    case 'binary': {
      const a = evalBounds(expr.left, env);
      const b = evalBounds(expr.right, env);
      switch (expr.op) {
        case '+':
        case '|':
          return { lower: union(a.lower, b.lower), upper: union(a.upper, b.upper) };
        case '&':
          return { lower: intersect(a.lower, b.lower), upper: intersect(a.upper, b.upper) };
        case '-':
          // Certainly in A and certainly not in B; possibly in A and possibly not in B.
          return { lower: minus(a.lower, b.upper), upper: minus(a.upper, b.lower) };
        case '^':
          return {
            lower: union(minus(a.lower, b.upper), minus(b.lower, a.upper)),
            upper: union(minus(a.upper, b.lower), minus(b.upper, a.lower)),
          };
      }
    }
  }
}

/** What is known before the run: lower ⊆ actual ⊆ upper, both in definition order. */
export function boundsGroupExpr(expr: GroupExpr, env: BoundsEnv): HostBounds {
  const b = evalBounds(expr, env);
  return { lower: inOrder(env.all, b.lower), upper: inOrder(env.all, b.upper) };
}

// ---------------------------------------------------------------------------------------
// Formatting

function precedence(op: SetOp): number {
  switch (op) {
    case '|':
      return 1;
    case '^':
      return 2;
    case '&':
      return 3;
    case '+':
    case '-':
      return 4;
  }
}

/** Canonical text with the fewest parentheses that re-parses to the same tree. */
export function formatGroupExpr(expr: GroupExpr): string {
  switch (expr.type) {
    case 'name':
      return expr.name;
    case 'glob':
      return expr.pattern.includes("'") ? `"${expr.pattern}"` : `'${expr.pattern}'`;
    case 'outcome':
      return `${expr.outcome}(${expr.register})`;
    case 'binary': {
      const p = precedence(expr.op);
      const left = formatGroupExpr(expr.left);
      const right = formatGroupExpr(expr.right);
      // Left-associative: a left child of equal precedence needs no parentheses, a right one does.
      const l = expr.left.type === 'binary' && precedence(expr.left.op) < p ? `(${left})` : left;
      const r = expr.right.type === 'binary' && precedence(expr.right.op) <= p ? `(${right})` : right;
      return `${l} ${expr.op} ${r}`;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Hints

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` by edit distance, if close enough to be a plausible typo:
 * distance ≤ 2 (but less than the word's length, so 'ab' does not suggest 'xy'), or ≤ a
 * third of the word's length. Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    const close = (d <= 2 && d < word.length) || d <= word.length / 3;
    if (close && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** A hint for an unknown name in a group expression, or undefined when nothing fits. */
export function suggestName(unknown: string, known: string[]): string | undefined {
  const knownSet = new Set(known);
  for (let i = unknown.indexOf('-'); i > 0; i = unknown.indexOf('-', i + 1)) {
    const a = unknown.slice(0, i);
    const b = unknown.slice(i + 1);
    if (knownSet.has(a) && knownSet.has(b)) return `did you mean '${a} - ${b}'?`;
  }
  const c = closest(unknown, known);
  return c === undefined ? undefined : `did you mean '${c}'?`;
}
