/**
 * The library surface, small on purpose (as zx keeps it): load a playbook into a plan, run a
 * plan, or both at once. The CLI is built on these same three functions.
 *
 *   import { runPlaybook } from 'chopsticks';
 *   const { status, report } = await runPlaybook('deploy.yaml', { vars: { release: '2.4.1' } });
 */
import { PlaybookInvalidError, UsageError, type PlaybookProblem } from './errors.js';
import { evalGroupExpr } from './lang/groups.js';
import type { GroupExpr } from './lang/group-expr.js';
import type { Plan } from './compile/plan-types.js';
import type { Callable } from './callables/types.js';
import type { RunEvent, RunStatus } from './run/events.js';
import type { RunReport } from './report/report-types.js';
import type { ResumeSeed } from './run/resume.js';
import { loadPlaybook } from './validate/index.js';
import { compile } from './compile/index.js';
import type { Shard } from './lang/shard.js';

export interface PlanOptions {
  /** Inventory files, read after the playbook's own `inventory:` list. */
  inventory?: string[];
  /** `--var K=V` overrides. */
  vars?: Record<string, string>;
  /** `--limit EXPR`: intersected with every step's targets. */
  limit?: string;
  /** `--shard I/N`: keep only this shard's hosts, as a limit would (lang/shard.ts). */
  shard?: Shard;
  /** `--var @FILE` files of typed vars. */
  varFiles?: string[];
  /** Non-fatal findings of validation (e.g. Ansible inventory keys that have no meaning here). */
  onWarning?: (w: PlaybookProblem) => void;
}

export interface RunPlanOptions {
  check?: boolean;
  /** `--diff`: put (and other file-writing steps) report a unified diff per host in their value. */
  diff?: boolean;
  /** At most this many hosts working at once. */
  concurrency?: number;
  /** Abort to interrupt the run as SIGINT does: no new work, work in flight stopped, cleanup. */
  signal?: AbortSignal;
  /** Every event of the run, in order (what reporters consume). */
  onEvent?: (ev: RunEvent) => void;
  /** From `--resume`: see run/resume.ts. */
  resume?: ResumeSeed;
  /** Secret values given by a library caller, besides the playbook's `secrets:` (read when the run starts). */
  secrets?: Record<string, string>;
}

export interface RunOutcome {
  status: RunStatus;
  report: RunReport;
}

/** Load, validate and compile; throws PlaybookInvalidError with every problem. Contacts nothing. */
export async function planPlaybook(path: string, opts: PlanOptions = {}): Promise<Plan> {
  const { playbook, problems, warnings } = await loadPlaybook(path, {
    inventory: opts.inventory ?? [],
    vars: opts.vars ?? {},
    limit: opts.limit,
    varFiles: opts.varFiles ?? [],
  });
  for (const w of warnings) opts.onWarning?.(w);
  if (!playbook || problems.length) throw new PlaybookInvalidError(problems);
  const plan = compile(playbook, opts.shard ? { shard: opts.shard } : {});
  if (playbook.limit && limitSelectsNothing(plan, playbook.limit.expr)) {
    throw new UsageError(
      `--limit '${playbook.limit.text}' selects no host of the playbook; nothing would run (\`chopsticks hosts PLAYBOOK EXPR\` lists what an expression selects)`,
    );
  }
  return plan;
}

/** The limit on its own, over hosts and static groups (all it may name). */
function limitSelectsNothing(plan: Plan, expr: GroupExpr): boolean {
  const groups = new Map(plan.groups.map((g) => [g.name, g.hosts.upper]));
  const hosts = plan.hosts.map((h) => h.name);
  return (
    evalGroupExpr(expr, { all: hosts, resolve: (n) => groups.get(n) ?? (hosts.includes(n) ? [n] : undefined), outcome: () => [] })
      .length === 0
  );
}

/** Run a compiled plan against its hosts; resolves with the run report (docs/cli.md#the-run-report---json). */
export async function runPlan(plan: Plan, opts: RunPlanOptions = {}): Promise<RunOutcome> {
  // Transports, callables and the executor are loaded only when something runs.
  const [
    { execute },
    { openHostSession },
    { builtinCallables, loadCustomCallable },
    { ReportBuilder },
    { readSecrets, makeMasker, maskEvent },
  ] = await Promise.all([
    import('./run/executor.js'),
    import('./transports/index.js'),
    import('./callables/index.js'),
    import('./report/build-report.js'),
    import('./run/secrets.js'),
  ]);
  // Read once, before any host is contacted; every event is masked here, the one place all
  // reporter input passes (docs/language.md#secrets).
  const secrets = { ...opts.secrets, ...(await readSecrets(plan.secrets ?? {})) };
  const mask = makeMasker(Object.values(secrets));
  const builder = new ReportBuilder();
  const emit = (raw: RunEvent) => {
    const ev = maskEvent(raw, mask);
    builder.onEvent(ev);
    opts.onEvent?.(ev);
  };
  const custom = new Map<string, Promise<Callable>>();
  const resolveCallable = (name: string): Promise<Callable> => {
    const builtin = builtinCallables.get(name);
    if (builtin) return Promise.resolve(builtin);
    let p = custom.get(name);
    if (!p) {
      const ref = plan.callables[name];
      if (!ref) return Promise.reject(new Error(`unknown callable '${name}' (validation should have caught this)`));
      p = loadCustomCallable(ref.module, ref.exportName, name);
      custom.set(name, p);
    }
    return p;
  };
  const check = opts.check ?? false;
  emit({ type: 'run_started', plan, check, started_at: new Date().toISOString() });
  const result = await execute({
    plan,
    check,
    diff: opts.diff ?? false,
    concurrency: opts.concurrency,
    resume: opts.resume,
    ...(Object.keys(secrets).length ? { secrets } : {}),
    emit,
    signal: opts.signal ?? new AbortController().signal,
    openSession: (host, signal) =>
      openHostSession(host, { plan, signal, warn: (message) => emit({ type: 'warning', message, host: host.name }) }),
    resolveCallable,
  });
  return { status: result.status, report: builder.report() };
}

/** planPlaybook + runPlan. */
export async function runPlaybook(path: string, opts: PlanOptions & RunPlanOptions = {}): Promise<RunOutcome> {
  return runPlan(await planPlaybook(path, opts), opts);
}
