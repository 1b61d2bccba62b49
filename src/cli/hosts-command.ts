/** `chopsticks hosts PLAYBOOK [EXPR]`: the hosts an expression selects, with their transport. */
import { UsageError } from '../errors.js';
import type { Plan } from '../compile/plan-types.js';
import type { HostSpec } from '../model/playbook.js';
import { boundsGroupExpr, parseGroupExpr, suggestName, namesIn } from '../lang/groups.js';

export function selectHosts(plan: Plan, expr: string | undefined): HostSpec[] {
  if (expr === undefined) return plan.hosts;
  const parsed = parseGroupExpr(expr);
  if (!parsed.ok) throw new UsageError(`hosts: ${parsed.message} (at column ${parsed.offset + 1} of '${expr}')`);
  const groups = new Map(plan.groups.map((g) => [g.name, g]));
  const hostNames = plan.hosts.map((h) => h.name);
  const known = [...groups.keys(), ...hostNames, 'all'];
  for (const n of namesIn(parsed.expr)) {
    if (!known.includes(n.name)) {
      const hint = suggestName(n.name, known);
      throw new UsageError(`hosts: unknown group or host '${n.name}'${hint ? `; ${hint}` : ''}`);
    }
  }
  const bounds = boundsGroupExpr(parsed.expr, {
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
