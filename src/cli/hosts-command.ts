/** `chopsticks hosts PLAYBOOK [EXPR]`: the hosts an expression selects, with their transport. */
import { UsageError, type PlaybookProblem } from '../errors.js';
import type { Plan } from '../compile/plan-types.js';
import type { HostSpec } from '../model/playbook.js';
import { boundsGroupExpr } from '../lang/groups.js';
import { checkCommandLineExpr } from '../validate/rules/limit.js';

export function selectHosts(plan: Plan, expr: string | undefined): HostSpec[] {
  if (expr === undefined) return plan.hosts;
  const problems: PlaybookProblem[] = [];
  const parsed = checkCommandLineExpr('hosts', expr, plan, problems, {
    filterGroups: plan.groups.filter((g) => g.source === 'filter').map((g) => g.name),
    registers: plan.steps.flatMap((s) => (s.register !== undefined ? [s.register] : [])),
    allow: true,
  });
  if (!parsed) throw new UsageError(problems.map((p) => `${p.message} (at column ${p.pos.col} of '${expr}')`).join('\n'));
  const groups = new Map(plan.groups.map((g) => [g.name, g]));
  const hostNames = plan.hosts.map((h) => h.name);
  const bounds = boundsGroupExpr(parsed, {
    all: hostNames,
    resolve: (name) => groups.get(name)?.hosts ?? (hostNames.includes(name) ? { lower: [name], upper: [name] } : undefined),
    outcome: () => ({ lower: [], upper: hostNames }),
  });
  const chosen = new Set(bounds.upper);
  return plan.hosts.filter((h) => chosen.has(h.name));
}

export function formatHostLine(h: HostSpec): string {
  switch (h.transport) {
    case 'local':
      return `${h.name}\tlocal`;
    case 'ssh':
      return `${h.name}\tssh\t${h.user ? `${h.user}@` : ''}${h.host}${h.port ? `:${h.port}` : ''}`;
    case 'docker':
      return `${h.name}\tdocker\t${h.container ?? `${h.image} (ephemeral)`}`;
  }
}
