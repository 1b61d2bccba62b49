/**
 * Validated playbook → Plan. Pure and deterministic: no I/O, no clocks, no set iteration order
 * leaking out (every host list follows definition order). It never reports problems: validation
 * (src/validate/) has checked everything, including --limit, on the same model.
 */
import type { GroupExpr, HostBounds } from '../lang/group-expr.js';
import { formatGroupExpr } from '../lang/groups.js';
import { resolveTargets } from '../lang/targets.js';
import type { Playbook } from '../validate/model.js';
import { kindOf, type PlanStep } from '../steps/index.js';
import type { PlanStepBase } from '../steps/types.js';
import { isReadonlyCallable } from '../callables/builtins.js';
import { hostsInShard, shardLabel, type Shard } from '../lang/shard.js';
import type { Plan, PlanGroup } from './plan-types.js';

export interface CompileOptions {
  /** `--shard I/N`: keep only this shard's hosts, as a limit naming them would (lang/shard.ts). */
  shard?: Shard;
}

export function compile(playbook: Playbook, opts: CompileOptions = {}): Plan {
  const hosts = playbook.hosts.map((h) => h.name);
  // --shard is a static group of its hosts, named so no playbook group can clash with it.
  const shard = opts.shard ? { name: shardLabel(opts.shard), hosts: hostsInShard(hosts, opts.shard) } : undefined;
  let limit = playbook.limit?.expr;
  if (shard) {
    const s: GroupExpr = { type: 'name', name: shard.name, pos: 0 };
    limit = limit ? { type: 'binary', op: '&', left: limit, right: s, pos: 0 } : s;
  }
  const resolved = resolveTargets({
    hosts,
    groups: playbook.groups.map((g) => ({ name: g.name, expr: g.parsed })),
    steps: playbook.steps.map((s) => ({ on: s.on.expr, register: s.register?.value, makes: s.makes?.value })),
    ...(limit ? { limit } : {}),
    ...(shard ? { fixed: [shard] } : {}),
  });

  const groups: PlanGroup[] = playbook.groups.map((g) => ({ name: g.name, source: 'static', hosts: resolved.groups.get(g.name)! }));
  if (shard) groups.push({ name: shard.name, source: 'static', hosts: { lower: shard.hosts, upper: shard.hosts } });
  for (const [name, m] of resolved.made) groups.push({ name, source: 'filter', hosts: m.bounds, step: m.step });

  const readonlyOf = (name: string): boolean => isReadonlyCallable(name, playbook.callables);
  const finallyTargets = touchedBounds(
    playbook.steps.flatMap((s, i) =>
      s.phase === 'finally' ? [] : [{ targets: resolved.steps[i]!.targets, run_once: s.run_once === true }],
    ),
    playbook.serial !== undefined,
  );
  const steps: PlanStep[] = playbook.steps.map((step, i) => {
    const t = resolved.steps[i]!;
    // An `on` that did not parse was reported by validation; a plan is never made from it.
    const on: GroupExpr = t.on ?? { type: 'name', name: step.on.value, pos: 0 };
    const base: PlanStepBase = {
      index: step.index,
      name: step.name,
      on,
      onText: formatGroupExpr(on),
      targets: step.phase === 'finally' ? within(t.targets, finallyTargets) : t.targets,
      ...(step.register ? { register: step.register.value } : {}),
      policy: step.policy,
      pos: step.pos,
      ...(step.when ? { when: step.when.value } : {}),
      ...(step.loop ? { loop: step.loop.value } : {}),
      ...(step.run_once ? { run_once: true } : {}),
      ...(step.phase ? { phase: step.phase } : {}),
      ...(step.vars ? { vars: step.vars } : {}),
    };
    return kindOf(step.kind).compile(step, base, { readonlyOf });
  });

  const callables: Plan['callables'] = {};
  for (const c of playbook.callables) callables[c.name] = { module: c.module, exportName: c.exportName, readonly: c.readonly === true };

  return {
    version: 1,
    playbook: playbook.file,
    playbook_sha256: playbook.sha256,
    ...(playbook.name !== undefined ? { name: playbook.name } : {}),
    baseDir: playbook.baseDir,
    vars: playbook.vars,
    secrets: playbook.secrets,
    hosts: playbook.hosts,
    groups,
    strategy: playbook.strategy,
    ...(playbook.serial ? { serial: playbook.serial } : {}),
    ...(playbook.limit !== undefined ? { limit: playbook.limit.text } : {}),
    ...(opts.shard ? { shard: opts.shard } : {}),
    steps,
    callables,
  };
}

/**
 * The hosts a `finally:` step may run on: those any step ran on (docs/language.md#finally). Surely
 * the first step's (it always runs, on every batch, unless it is run_once or batches stop early
 * under `serial`); at most any step's.
 */
function touchedBounds(main: ReadonlyArray<{ targets: HostBounds; run_once: boolean }>, serial: boolean): HostBounds {
  const first = main[0];
  const upper = new Set(main.flatMap((s) => s.targets.upper));
  return { lower: first && !first.run_once && !serial ? first.targets.lower : [], upper: [...upper] };
}

function within(t: HostBounds, bounds: HostBounds): HostBounds {
  const lower = new Set(bounds.lower);
  const upper = new Set(bounds.upper);
  return { lower: t.lower.filter((h) => lower.has(h)), upper: t.upper.filter((h) => upper.has(h)) };
}
