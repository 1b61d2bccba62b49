/** Host names and bastions: reserved and ambiguous names, `jump` targets, jump cycles. */
import { closest } from '../../lang/groups.js';
import { dependencyOrder } from '../../lang/graph.js';
import { findPos } from '../../parse/parse-yaml.js';
import { badNameReason } from '../host-specs.js';
import type { Rule } from './types.js';

export const checkHosts: Rule = (m, add) => {
  for (const [name, { spec, src, key }] of m.hosts) {
    const reason = badNameReason(name);
    if (reason) add('host_name', `host ${reason}`, spec.pos);
    if (name === 'all') add('ambiguous_name', "'all' is the group of every host; a host cannot be named all", spec.pos);
    const group = m.groups.get(name);
    if (group) add('ambiguous_name', `'${name}' is both a host and a group; rename one of them`, group.def.pos);
    if (spec.transport !== 'ssh' || spec.jump === undefined) continue;
    const jumpPos = findPos(src, ['hosts', key, 'jump']);
    const target = m.hosts.get(spec.jump);
    if (!target) {
      const hint = closest(spec.jump, [...m.hosts.keys()]);
      add('unknown_name', `jump: '${spec.jump}' is not a host of this playbook${hint ? `; did you mean '${hint}'?` : ''}`, jumpPos);
    } else if (target.spec.transport !== 'ssh') {
      add('unknown_name', `jump: '${spec.jump}' is a ${target.spec.transport} host; a bastion must be an ssh host`, jumpPos);
    } else if (spec.jump === name) {
      add('cycle', `jump: host '${name}' cannot be its own bastion`, jumpPos);
    }
  }
  // Bastion chains must end somewhere (each cycle once, however long the chains are).
  const jumpOf = (h: string): string[] => {
    const spec = m.hosts.get(h)?.spec;
    return spec?.transport === 'ssh' && spec.jump !== undefined && spec.jump !== h && m.hosts.has(spec.jump) ? [spec.jump] : [];
  };
  for (const cycle of dependencyOrder(m.hosts.keys(), jumpOf).cycles) {
    add(
      'cycle',
      `jump hosts form a cycle: ${cycle.join(' -> ')}`,
      findPos(m.hosts.get(cycle[0]!)!.src, ['hosts', m.hosts.get(cycle[0]!)!.key, 'jump']),
    );
  }
};
