/**
 * `plan --json`: the plan as data. Same input → byte-identical output: key order is fixed by
 * construction here (user data such as args and vars keeps the order it was written in), host
 * lists follow definition order, and nothing time- or machine-dependent beyond the playbook's
 * own folder is included.
 */
import type { HostSpec, Json, StepPolicy } from '../model/playbook.js';
import { kindOf } from '../steps/index.js';
import { fillVarsOnly } from '../steps/fill-vars.js';
import { shardLabel } from '../lang/shard.js';
import type { HostBounds, Plan, PlanStep } from './plan-types.js';

export function planToJson(plan: Plan): string {
  return JSON.stringify(planAsData(plan), null, 2) + '\n';
}

export function planAsData(plan: Plan): Json {
  return {
    version: 1,
    playbook: plan.playbook,
    playbook_sha256: plan.playbook_sha256,
    name: plan.name ?? null,
    strategy: plan.strategy,
    serial: plan.serial ? plan.serial.map((s) => ('count' in s ? s.count : `${s.percent}%`)) : null,
    limit: plan.limit ?? null,
    ...(plan.shard
      ? {
          shard: {
            index: plan.shard.index,
            count: plan.shard.count,
            hosts: plan.groups.find((g) => g.name === shardLabel(plan.shard!))?.hosts.upper ?? [],
          },
        }
      : {}),
    ...(plan.resume ? { resume: { report: plan.resume.report, from: plan.resume.from } } : {}),
    vars: plan.vars,
    hosts: plan.hosts.map(hostData),
    groups: [
      {
        name: 'all',
        source: 'static',
        step: null,
        hosts: plan.hosts.map((h) => h.name),
        decided_at_run_time: false,
        upper: plan.hosts.map((h) => h.name),
      },
      ...plan.groups.map((g) => ({
        name: g.name,
        source: g.source,
        step: g.step ?? null,
        ...boundsData(g.hosts, g.source === 'filter'),
      })),
    ],
    callables: Object.fromEntries(
      Object.keys(plan.callables)
        .sort()
        .map((k) => {
          const c = plan.callables[k]!;
          return [k, { module: c.module, export: c.exportName, readonly: c.readonly }];
        }),
    ),
    steps: plan.steps.map((s) => ({
      ...(stepData(s, plan.vars) as Record<string, Json>),
      ...(s.pos.file !== plan.playbook ? { origin: `${s.pos.file}:${s.pos.line}` } : {}),
    })),
  };
}

function boundsData(b: HostBounds, runtime = false): { hosts: string[]; decided_at_run_time: boolean; upper: string[] } {
  const decided = runtime || b.lower.length !== b.upper.length;
  // `hosts` is what is certain before the run; `upper` what is possible.
  return { hosts: b.lower, decided_at_run_time: decided, upper: b.upper };
}

function hostData(h: HostSpec): Json {
  const base = { name: h.name, transport: h.transport } as Record<string, Json>;
  switch (h.transport) {
    case 'local':
      if (h.cwd !== undefined) base.cwd = h.cwd;
      if (h.env) base.env = h.env;
      break;
    case 'ssh':
      base.host = h.host;
      if (h.port !== undefined) base.port = h.port;
      if (h.user !== undefined) base.user = h.user;
      if (h.identity_file !== undefined) base.identity_file = h.identity_file;
      if (h.password_env !== undefined) base.password_env = h.password_env;
      if (h.known_hosts !== undefined) base.known_hosts = h.known_hosts;
      if (h.host_key_check !== undefined) base.host_key_check = h.host_key_check;
      if (h.jump !== undefined) base.jump = h.jump;
      base.connect_timeout_ms = h.connect_timeout_ms;
      base.keepalive_ms = h.keepalive_ms;
      base.keepalive_count = h.keepalive_count;
      break;
    case 'docker':
      if (h.container !== undefined) base.container = h.container;
      if (h.image !== undefined) base.image = h.image;
      base.ephemeral = h.ephemeral;
      if (h.docker_host !== undefined) base.docker_host = h.docker_host;
      break;
  }
  if (h.become !== undefined) base.become = h.become;
  base.vars = h.vars;
  // Which field or var came from host_defaults / group_vars (only when some did).
  if (h.sources) base.sources = h.sources;
  return base;
}

export function policyData(p: StepPolicy): Json {
  return {
    on_failure: p.on_failure,
    max_failures: p.max_failures ? ('count' in p.max_failures ? p.max_failures.count : `${p.max_failures.percent}%`) : null,
    retries: p.retries,
    retry_delay_ms: p.retry_delay_ms,
    timeout_ms: p.timeout_ms ?? null,
    become: p.become ?? null,
    concurrency: p.concurrency ?? null,
    max_result: p.max_result ?? null,
    check_mode: p.check_mode ?? null,
  };
}

function stepData(s: PlanStep, planVars: Record<string, Json>): Json {
  const vars = s.vars ? { ...planVars, ...s.vars } : planVars;
  return {
    index: s.index,
    name: s.name,
    kind: s.kind,
    on: s.onText,
    ...boundsData(s.targets),
    register: s.register ?? null,
    policy: policyData(s.policy),
    line: s.pos.line,
    ...(s.when !== undefined ? { when: s.when } : {}),
    // As written, and filled as text plan shows it (`src` / `src_filled` are the same pair).
    ...(s.loop !== undefined ? { loop: s.loop, ...(typeof s.loop === 'string' ? { loop_filled: fillVarsOnly(s.loop, vars) } : {}) } : {}),
    ...(s.run_once ? { run_once: true } : {}),
    ...(s.phase ? { phase: s.phase } : {}),
    ...(s.vars ? { include_vars: s.vars } : {}),
    ...kindOf(s.kind).data(s, vars),
  };
}
