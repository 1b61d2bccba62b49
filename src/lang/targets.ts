/**
 * Static target bounds: what is known before the run about each group and each step's targets.
 * Pure; used by validation (fetch paths must be unique per possible target) and by the compiler.
 * A filter's group is decided at run time: it is a subset of its step's targets (lower bound
 * empty); an outcome set ok(R) / failed(R) ... is a subset of R's step targets.
 */
import { dependencyOrder } from './graph.js';
import type { GroupExpr, HostBounds } from './group-expr.js';
import { boundsGroupExpr, namesIn } from './groups.js';

export interface TargetsInput {
  /** Every host, in definition order. */
  hosts: readonly string[];
  /** Static groups; `expr` undefined when it did not parse (then the group is empty). */
  groups: ReadonlyArray<{ name: string; expr?: GroupExpr }>;
  steps: ReadonlyArray<{ on?: GroupExpr; register?: string; makes?: string }>;
  /** Intersected with every step's `on`. */
  limit?: GroupExpr;
  /** Groups given as host lists (e.g. `--shard`'s hosts), usable in `limit`. */
  fixed?: ReadonlyArray<{ name: string; hosts: string[] }>;
}

export interface StepTargets {
  /** The step's `on` with the limit intersected; undefined when `on` did not parse. */
  on?: GroupExpr;
  targets: HostBounds;
}

export interface Targets {
  groups: Map<string, HostBounds>;
  steps: StepTargets[];
  /** Groups made by steps (filters): name → bounds and the index of the step. */
  made: Map<string, { bounds: HostBounds; step: number }>;
}

const EMPTY: HostBounds = { lower: [], upper: [] };

export function resolveTargets(input: TargetsInput): Targets {
  const all = [...input.hosts];
  const hostSet = new Set(all);
  const exprs = new Map(input.groups.map((g) => [g.name, g.expr]));
  const groups = new Map<string, HostBounds>();
  const made = new Map<string, { bounds: HostBounds; step: number }>();
  const registered = new Map<string, HostBounds>();

  const fixed = new Map((input.fixed ?? []).map((g) => [g.name, g.hosts]));
  const resolve = (name: string): HostBounds | undefined => {
    if (name === 'all') return { lower: all, upper: all };
    const list = fixed.get(name);
    if (list) return { lower: list, upper: list };
    if (exprs.has(name)) return groups.get(name) ?? EMPTY; // not yet known: part of a cycle
    if (hostSet.has(name)) return { lower: [name], upper: [name] };
    return made.get(name)?.bounds;
  };
  const env = {
    all,
    resolve,
    outcome: (_o: string, register: string): HostBounds => ({ lower: [], upper: registered.get(register)?.upper ?? [] }),
  };
  // Names that resolve to nothing were reported by validation; such an expression counts as empty.
  const bounds = (expr: GroupExpr | undefined): HostBounds =>
    expr && namesIn(expr).every((n) => resolve(n.name) !== undefined) ? boundsGroupExpr(expr, env) : EMPTY;

  const deps = (g: string): string[] => {
    const e = exprs.get(g);
    return e
      ? namesIn(e)
          .map((n) => n.name)
          .filter((n) => exprs.has(n) && n !== 'all')
      : [];
  };
  const { order, cycles } = dependencyOrder(exprs.keys(), deps);
  const inCycle = new Set(cycles.flat());
  for (const g of order) groups.set(g, inCycle.has(g) ? EMPTY : bounds(exprs.get(g)));

  const steps: StepTargets[] = input.steps.map((s, index) => {
    const on = s.on && input.limit ? ({ type: 'binary', op: '&', left: s.on, right: input.limit, pos: 0 } as const) : s.on;
    const targets = bounds(on);
    if (s.register !== undefined) registered.set(s.register, targets);
    if (s.makes !== undefined && !made.has(s.makes)) made.set(s.makes, { bounds: { lower: [], upper: targets.upper }, step: index });
    return { ...(on ? { on } : {}), targets };
  });
  return { groups, steps, made };
}
