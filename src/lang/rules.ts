/**
 * Rules for `when`, `assert` and `changed_when`: JSON Logic (jsonlogic.com), evaluated by
 * json-logic-engine (docs/decisions.md). A rule is data, never code: its `var` paths read
 * `host`, `vars.*`, `hostvars.*`, `results.REGISTER.*`, `item` and, for `changed_when`, `result.*`.
 *
 * `checkRule` finds what can be known before the run (unknown operators, unknown roots, vars that
 * do not exist, registers not yet defined), each with the path inside the rule for its position.
 * `evalRule` runs a rule over one host's data. Paths through `__proto__`, `constructor` or
 * `prototype` are refused both times, so a rule can never read a prototype.
 */
import { createRequire } from 'node:module';
import type { LogicEngine } from 'json-logic-engine';
import type { Json } from '../model/playbook.js';
import { closest } from './groups.js';

// Loaded on first use: most playbooks have no rule, and start-up time matters (bench W7).
let engineOnce: LogicEngine | undefined;
function engine(): LogicEngine {
  if (!engineOnce) {
    const { LogicEngine: Engine } = createRequire(import.meta.url)('json-logic-engine') as typeof import('json-logic-engine');
    engineOnce = new Engine();
    // Comparisons as JSON Logic's reference implementation (json-logic-js) makes them: plain
    // JavaScript, so "a" == 1 is false. json-logic-engine throws NaN on such a pair instead,
    // which would fail a `when` over a list of mixed items.
    const both = (f: (a: Json, b: Json) => boolean) => (args: Json[]) =>
      args.length === 3 ? f(args[0]!, args[1]!) && f(args[1]!, args[2]!) : f(args[0] ?? null, args[1] ?? null);
    // Loose equality is what JSON Logic's == and != mean.
    const compare: Record<string, (a: Json, b: Json) => boolean> = {
      '==': (a, b) => a == b,
      '!=': (a, b) => a != b,
      '<': (a, b) => (a as number) < (b as number),
      '<=': (a, b) => (a as number) <= (b as number),
      '>': (a, b) => (a as number) > (b as number),
      '>=': (a, b) => (a as number) >= (b as number),
    };
    for (const [op, f] of Object.entries(compare)) engineOnce.addMethod(op, both(f), { deterministic: true });
  }
  return engineOnce;
}
let operatorsOnce: Set<string> | undefined;
const operators = (): Set<string> => (operatorsOnce ??= new Set(Object.keys(engine().methods as Record<string, unknown>)));
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export type RuleRoot = 'host' | 'vars' | 'hostvars' | 'results' | 'item' | 'result';

export interface RuleKnown {
  vars: Readonly<Record<string, Json>>;
  /** Registers of steps before this one. */
  registers: ReadonlySet<string>;
  /** Union of every host's var names, when known. */
  hostvarNames?: ReadonlySet<string>;
  /** `item` is allowed (the step has a loop). */
  item?: boolean;
  /** `result` is allowed (changed_when). */
  result?: boolean;
}

export interface RuleProblem {
  message: string;
  /** Path inside the rule value (for the position of the offending piece). */
  path: Array<string | number>;
}

function isObj(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The path of a `var` operand (`"a.b"`, `["a.b", default]`, `0`), or undefined when computed. */
function varPath(operand: Json): string | undefined {
  const first = Array.isArray(operand) ? operand[0] : operand;
  if (typeof first === 'string') return first;
  if (typeof first === 'number') return String(first);
  return undefined;
}

/** Problems that can be found before the run; empty when the rule is fine. */
export function checkRule(rule: Json, known: RuleKnown): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const roots: string[] = ['host', 'vars', 'hostvars', 'results', ...(known.item ? ['item'] : []), ...(known.result ? ['result'] : [])];
  /** `element`: inside the per-element rule of map, filter, reduce, all, none or some, where `var` reads the element. */
  const walk = (v: Json, path: Array<string | number>, element = false): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i], element));
      return;
    }
    if (!isObj(v)) return;
    const keys = Object.keys(v);
    if (keys.length !== 1) {
      problems.push({
        message: `a rule object has exactly one operator key, such as {"==": [...]}; this one has ${keys.length} (${keys.join(', ') || 'none'})`,
        path,
      });
      return;
    }
    const op = keys[0]!;
    const operand = v[op]!;
    if (!operators().has(op)) {
      const hint = closest(op, [...operators()]);
      problems.push({ message: `unknown rule operator '${op}'${hint ? `; did you mean '${hint}'?` : ''}`, path: [...path, op] });
      return;
    }
    if (op === 'var') {
      const p = varPath(operand);
      // An element's fields are not known before the run, but a prototype is never readable.
      // With a default ({"var": ["vars.x", 3]}) a missing name is expected.
      const hasDefault = Array.isArray(operand) && operand.length > 1;
      const found = p === undefined ? [] : element ? forbiddenIn(p) : checkVarPath(p, known, roots, hasDefault);
      for (const m of found) problems.push({ message: m, path: [...path, op] });
    }
    if (ELEMENT_OPERATORS.has(op) && Array.isArray(operand)) {
      operand.forEach((x, i) => walk(x, [...path, op, i], i === 1 || element));
      return;
    }
    walk(operand, [...path, op], element);
  };
  walk(rule, []);
  return problems;
}

function forbiddenIn(p: string): string[] {
  const bad = p.split('.').find((s) => FORBIDDEN.has(s));
  return bad ? [`var "${p}": '${bad}' cannot be read`] : [];
}

/** Operators whose second operand is a rule run on each element of the first: its `var` reads the element. */
const ELEMENT_OPERATORS = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

function checkVarPath(p: string, known: RuleKnown, roots: string[], hasDefault: boolean): string[] {
  if (p === '') return [`{"var": ""} reads the whole data; name a path such as "vars.NAME" or "results.R.rc"`];
  const forbidden = forbiddenIn(p);
  if (forbidden.length > 0) return forbidden;
  const segs = p.split('.');
  const [root, first] = segs as [string, string | undefined];
  if (!roots.includes(root)) {
    const why =
      root === 'item'
        ? "'item' exists only in a step with loop:"
        : root === 'result'
          ? "'result' exists only in changed_when"
          : `unknown name '${root}'`;
    const hint = closest(root, roots);
    return [`var "${p}": ${why}; use ${roots.join(', ')}${hint && hint !== root ? ` (did you mean '${hint}'?)` : ''}`];
  }
  if (hasDefault) return [];
  if (root === 'vars' && first !== undefined && !Object.prototype.hasOwnProperty.call(known.vars, first)) {
    const hint = closest(first, Object.keys(known.vars));
    return [`var "${p}": no var '${first}' is defined${hint ? ` (did you mean '${hint}'?)` : ''}`];
  }
  if (root === 'hostvars' && first !== undefined && known.hostvarNames && !known.hostvarNames.has(first)) {
    return [`var "${p}": no host defines var '${first}'`];
  }
  if (root === 'results' && first !== undefined && !known.registers.has(first)) {
    const hint = closest(first, known.registers);
    return [`var "${p}": no earlier step has 'register: ${first}'${hint ? ` (did you mean '${hint}'?)` : ''}`];
  }
  return [];
}

export interface RuleData {
  host: string;
  vars: Record<string, Json>;
  hostvars: Record<string, Json>;
  results: Record<string, Json>;
  item?: Json;
  result?: Json;
}

function forbiddenPath(rule: Json): string | undefined {
  if (Array.isArray(rule)) {
    for (const x of rule) {
      const f = forbiddenPath(x);
      if (f) return f;
    }
    return undefined;
  }
  if (!isObj(rule)) return undefined;
  for (const [op, operand] of Object.entries(rule)) {
    if (op === 'var') {
      const p = varPath(operand);
      if (p?.split('.').some((s) => FORBIDDEN.has(s))) return p;
    }
    const f = forbiddenPath(operand);
    if (f) return f;
  }
  return undefined;
}

/** The rule's value over one host's data; throws Error with a readable message. */
export function evalRule(rule: Json, data: RuleData): Json {
  const bad = forbiddenPath(rule);
  if (bad) throw new Error(`rule reads var "${bad}", which cannot be read`);
  try {
    return engine().run(rule, { ...data }) as Json;
  } catch (e) {
    // The engine throws NaN for arithmetic on something that is not a number.
    const msg = Number.isNaN(e)
      ? 'arithmetic on a value that is not a number (a string, a list or an object); make it a number first'
      : e instanceof Error && e.message
        ? e.message
        : JSON.stringify(e);
    throw new Error(`rule ${JSON.stringify(rule)} could not be evaluated: ${msg}`, { cause: e });
  }
}

/** JSON Logic truthiness (an empty list is false, as in jsonlogic.com). */
export function truthy(v: Json): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Short text of a rule for plan output. */
export function ruleText(rule: Json): string {
  return JSON.stringify(rule);
}
