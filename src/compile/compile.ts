/**
 * Validated playbook → Plan. Pure and deterministic: no I/O, no clocks, no set iteration order
 * leaking out (every host list follows definition order).
 */
import type { PlaybookProblem } from '../errors.js';
import type { GroupExpr } from '../lang/group-expr.js';
import { boundsGroupExpr, formatGroupExpr, namesIn, outcomesIn, parseGroupExpr, suggestName } from '../lang/groups.js';
import type { Outcome } from '../lang/group-expr.js';
import type { Playbook, Step } from '../model/playbook.js';
import { builtinSignature } from '../validate/builtin-signatures.js';
import { checkFetchPaths } from './fetch-paths.js';
import { hostsInShard, shardLabel, type Shard } from '../lang/shard.js';
import type { HostBounds, Plan, PlanGroup, PlanStep } from './plan-types.js';

export interface CompileOptions {
  /** `--limit EXPR`: intersected with every step's targets. */
  limit?: string;
  /** `--shard I/N`: applied as a limit to this shard's hosts (lang/shard.ts). */
  shard?: Shard;
}

export interface CompileResult {
  plan?: Plan;
  problems: PlaybookProblem[];
}

const EMPTY: HostBounds = { lower: [], upper: [] };

export function compile(playbook: Playbook, opts: CompileOptions = {}): CompileResult {
  const problems: PlaybookProblem[] = [];
  const all = playbook.hosts.map((h) => h.name);
  const hostSet = new Set(all);
  const staticGroups = new Map(playbook.groups.map((g) => [g.name, g]));
  const staticBounds = new Map<string, HostBounds>();
  const resolving = new Set<string>();

  // Expressions that do not parse or name unknown things were reported by validate; the
  // compiler treats them as empty so a partial model never throws.
  const parse = (text: string): GroupExpr | undefined => {
    const r = parseGroupExpr(text);
    return r.ok ? r.expr : undefined;
  };

  const filterGroups = new Map<string, { bounds: HostBounds; step: number }>();
  const registered = new Map<string, HostBounds>();

  // --shard is a static group of its hosts, named so no playbook group can clash with it.
  const shard = opts.shard ? { name: shardLabel(opts.shard), hosts: hostsInShard(all, opts.shard) } : undefined;
  const resolveStatic = (name: string): HostBounds | undefined => {
    if (name === 'all') return { lower: all, upper: all };
    if (shard && name === shard.name) return { lower: shard.hosts, upper: shard.hosts };
    if (staticGroups.has(name)) {
      const memo = staticBounds.get(name);
      if (memo) return memo;
      if (resolving.has(name)) return EMPTY; // a cycle, reported by validate
      resolving.add(name);
      const expr = parse(staticGroups.get(name)!.expr.value);
      const b = expr ? safeBounds(expr) : EMPTY;
      resolving.delete(name);
      staticBounds.set(name, b);
      return b;
    }
    if (hostSet.has(name)) return { lower: [name], upper: [name] };
    return undefined;
  };
  const env = {
    all,
    resolve: (name: string): HostBounds | undefined => resolveStatic(name) ?? filterGroups.get(name)?.bounds,
    outcome: (_o: Outcome, register: string): HostBounds => ({ lower: [], upper: registered.get(register)?.upper ?? [] }),
  };
  function safeBounds(expr: GroupExpr): HostBounds {
    if (namesIn(expr).some((n) => env.resolve(n.name) === undefined)) return EMPTY;
    return boundsGroupExpr(expr, env);
  }

  let limitExpr: GroupExpr | undefined;
  if (opts.limit !== undefined) limitExpr = checkLimit(opts.limit, all, [...staticGroups.keys()], resolveStatic, problems);
  if (shard) {
    const s: GroupExpr = { type: 'name', name: shard.name, pos: 0 };
    limitExpr = limitExpr ? { type: 'binary', op: '&', left: limitExpr, right: s, pos: 0 } : s;
  }

  const groups: PlanGroup[] = playbook.groups.map((g) => ({ name: g.name, source: 'static', hosts: resolveStatic(g.name)! }));
  if (shard) groups.push({ name: shard.name, source: 'static', hosts: { lower: shard.hosts, upper: shard.hosts } });
  const steps: PlanStep[] = [];
  for (const step of playbook.steps) {
    const onExpr = parse(step.on.value);
    const on: GroupExpr = onExpr
      ? limitExpr
        ? { type: 'binary', op: '&', left: onExpr, right: limitExpr, pos: 0 }
        : onExpr
      : { type: 'name', name: step.on.value, pos: 0 };
    const targets = onExpr ? safeBounds(on) : EMPTY;
    steps.push(planStep(step, on, targets, playbook));
    if (step.register) registered.set(step.register.value, targets);
    if (step.kind === 'filter') {
      const bounds = { lower: [], upper: targets.upper };
      filterGroups.set(step.as.value, { bounds, step: step.index });
      groups.push({ name: step.as.value, source: 'filter', hosts: bounds, step: step.index });
    }
  }

  problems.push(...checkFetchPaths(playbook, steps));

  const callables: Plan['callables'] = {};
  for (const c of playbook.callables) callables[c.name] = { module: c.module, exportName: c.exportName, readonly: c.readonly === true };

  const plan: Plan = {
    version: 1,
    playbook: playbook.file,
    playbook_sha256: playbook.sha256,
    ...(playbook.name !== undefined ? { name: playbook.name } : {}),
    baseDir: playbook.baseDir,
    vars: playbook.vars,
    hosts: playbook.hosts,
    groups,
    strategy: playbook.strategy,
    ...(playbook.serial ? { serial: playbook.serial } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.shard ? { shard: opts.shard } : {}),
    steps,
    callables,
  };
  return problems.length ? { problems } : { plan, problems };
}

function checkLimit(
  text: string,
  all: string[],
  groupNames: string[],
  resolve: (n: string) => HostBounds | undefined,
  problems: PlaybookProblem[],
): GroupExpr | undefined {
  const pos = (offset: number) => ({ file: '--limit', line: 1, col: offset + 1 });
  const r = parseGroupExpr(text);
  if (!r.ok) {
    problems.push({ code: 'group_expr', message: `--limit '${text}': ${r.message}`, pos: pos(r.offset) });
    return undefined;
  }
  let ok = true;
  for (const n of namesIn(r.expr)) {
    if (resolve(n.name)) continue;
    ok = false;
    const hint = suggestName(n.name, ['all', ...all, ...groupNames]);
    problems.push({ code: 'unknown_name', message: `--limit: unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`, pos: pos(n.pos) });
  }
  for (const o of outcomesIn(r.expr)) {
    ok = false;
    problems.push({
      code: 'group_expr',
      message: `--limit: ${o.outcome}(${o.register}) is decided during the run; limit by hosts and groups`,
      pos: pos(o.pos),
    });
  }
  return ok ? r.expr : undefined;
}

function planStep(step: Step, on: GroupExpr, targets: HostBounds, playbook: Playbook): PlanStep {
  const base = {
    index: step.index,
    name: step.name,
    on,
    onText: formatGroupExpr(on),
    targets,
    ...(step.register ? { register: step.register.value } : {}),
    policy: step.policy,
    pos: step.pos,
  };
  const readonlyOf = (name: string): boolean =>
    builtinSignature(name)?.readonly ?? playbook.callables.find((c) => c.name === name)?.readonly === true;
  switch (step.kind) {
    case 'call':
      return { ...base, kind: 'call', callable: step.callable.value, readonly: readonlyOf(step.callable.value), args: step.args };
    case 'filter':
      return {
        ...base,
        kind: 'filter',
        callable: step.callable.value,
        readonly: readonlyOf(step.callable.value),
        args: step.args,
        exclude: step.exclude,
        as: step.as.value,
      };
    case 'put':
      return { ...base, kind: 'put', src: step.src.value, ...(step.to ? { to: step.to.value } : {}), mode: step.mode };
    case 'fetch':
      return { ...base, kind: 'fetch', src: step.src.value, ...(step.to ? { to: step.to.value } : {}) };
  }
}
