/**
 * What steps name: `on` may use hosts, static groups, groups made by EARLIER filters and outcome
 * sets of EARLIER registers; register names are unique; a filter's `as` is a new name.
 */
import { closest, namesIn, outcomesIn, suggestName } from '../../lang/groups.js';
import { posInScalar } from '../../parse/parse-yaml.js';
import { badNameReason } from '../host-specs.js';
import { includedFrom } from '../includes.js';
import { isObj } from '../load.js';
import type { Rule } from './types.js';

export const checkStepRefs: Rule = (m, add) => {
  /**
   * A name made twice where a step comes from an included file: the fix is often at the include
   * (the same file included twice), so say where this step and the first one came in.
   */
  const origins = (index: number, firstAt: number): { where: string; fix: (what: string) => string } => {
    const mine = includedFrom(m.stepSources[index]?.via ?? []);
    const theirs = includedFrom(m.stepSources[firstAt]?.via ?? []);
    if (!mine && !theirs) return { where: '', fix: () => '' };
    const self = 'in the playbook itself';
    return {
      where: ` (this step is ${mine || self}; step ${firstAt + 1} is ${theirs || self})`,
      fix: (what) => (mine ? ` (include the file once, or change ${what} in it)` : ''),
    };
  };

  // Names made by steps, to tell "later" from "unknown"; a broken step still counts.
  const registerAt = new Map<string, number>();
  const asAt = new Map<string, number>();
  m.rawSteps.forEach((s, i) => {
    if (!isObj(s)) return;
    if (typeof s.register === 'string' && !registerAt.has(s.register)) registerAt.set(s.register, i);
    if (typeof s.filter === 'string' && typeof s.as === 'string' && !asAt.has(s.as)) asAt.set(s.as, i);
  });
  const staticNames = ['all', ...m.hosts.keys(), ...m.groups.keys()];
  const registersBefore = new Set<string>();
  const madeBefore = new Set<string>();

  for (const step of m.playbook.steps) {
    const index = step.index;
    // The step's own `on` and those of its includes, each checked where it is written.
    for (const part of m.onParts[index] ?? []) {
      const expr = part.expr;
      const at = (offset: number) => posInScalar(part.src, part.path, offset);
      const known = [...staticNames, ...madeBefore];
      const knownSet = new Set(known);
      for (const n of namesIn(expr)) {
        if (knownSet.has(n.name) || m.brokenHosts.has(n.name)) continue;
        const later = asAt.get(n.name);
        if (later !== undefined) {
          add(
            'unknown_name',
            `on: group '${n.name}' is made by the filter of step ${later + 1}, which has not run yet at step ${index + 1}`,
            at(n.pos),
          );
        } else {
          const hint = suggestName(n.name, known);
          add('unknown_name', `on: unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`, at(n.pos));
        }
      }
      for (const o of outcomesIn(expr)) {
        if (registersBefore.has(o.register)) continue;
        const later = registerAt.get(o.register);
        if (later !== undefined) {
          add(
            'outcome_before_step',
            `on: ${o.outcome}(${o.register}) is used before step ${later + 1}, which registers '${o.register}'; move this step after it`,
            at(o.pos),
          );
        } else {
          const hint = closest(o.register, [...registersBefore]);
          add(
            'outcome_before_step',
            `on: no earlier step has 'register: ${o.register}'${hint ? `; did you mean '${hint}'?` : ''}`,
            at(o.pos),
          );
        }
      }
    }
    const register = step.register;
    if (register && registerAt.get(register.value) !== index) {
      const firstAt = registerAt.get(register.value)!;
      const { where, fix } = origins(index, firstAt);
      add(
        'schema',
        `register: '${register.value}' is already used by step ${firstAt + 1}${where}; each register name must be unique${fix('the register name')}`,
        register.pos,
      );
    }
    const as = step.makes;
    if (as) {
      const reason = badNameReason(as.value);
      if (reason) add('host_name', `as: ${reason}`, as.pos);
      if (m.hosts.has(as.value)) add('ambiguous_name', `as: '${as.value}' is already a host; name the filter's group differently`, as.pos);
      else if (as.value === 'all' || m.groups.has(as.value))
        add('ambiguous_name', `as: '${as.value}' is already a group; name the filter's group differently`, as.pos);
      const first = asAt.get(as.value);
      if (first !== undefined && first !== index) {
        const { where, fix } = origins(index, first);
        add(
          'ambiguous_name',
          `as: group '${as.value}' is already made by the filter of step ${first + 1}${where}; use another name${fix('the name')}`,
          as.pos,
        );
      }
    }
    if (register) registersBefore.add(register.value);
    if (as) madeBefore.add(as.value);
  }
};
