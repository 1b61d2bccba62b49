/** Static groups: reserved names, unknown members, outcome sets (run-time only), cycles. */
import { dependencyOrder } from '../../lang/graph.js';
import { namesIn, outcomesIn, suggestName } from '../../lang/groups.js';
import { posInScalar } from '../../parse/parse-yaml.js';
import { badNameReason } from '../host-specs.js';
import type { Rule } from './types.js';

export const checkGroups: Rule = (m, add) => {
  const known = ['all', ...m.hosts.keys(), ...m.groups.keys()];
  const knownSet = new Set(known);
  const edges = new Map<string, string[]>();
  for (const [name, { def, src, parts }] of m.groups) {
    if (name === 'all') add('ambiguous_name', "'all' is built in (every host); choose another group name", def.pos);
    const reason = badNameReason(name);
    if (reason) add('host_name', `group ${reason}`, def.pos);
    const refs: string[] = [];
    for (const part of parts) {
      const at = (offset: number) => posInScalar(src, part.path, Math.max(0, offset - part.shift / 2));
      for (const o of outcomesIn(part.expr)) {
        add(
          'outcome_before_step',
          `group '${name}': ${o.outcome}(${o.register}) is decided during the run; use it in a step's on:, not in groups`,
          at(o.pos),
        );
      }
      for (const n of namesIn(part.expr)) {
        if (knownSet.has(n.name)) {
          if (m.groups.has(n.name)) refs.push(n.name);
          continue;
        }
        if (m.brokenHosts.has(n.name)) continue;
        const hint = suggestName(n.name, known);
        add('unknown_name', `group '${name}': unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`, at(n.pos));
      }
    }
    edges.set(name, refs);
  }
  for (const cycle of dependencyOrder(edges.keys(), (g) => edges.get(g) ?? []).cycles) {
    add('cycle', `groups form a cycle: ${cycle.join(' -> ')}; a group cannot contain itself`, m.groups.get(cycle[0]!)!.def.pos);
  }
};
