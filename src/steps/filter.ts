/**
 * `filter: NAME` with `args`, `exclude`, `as`: a per-host predicate whose true hosts (false with
 * `exclude: true`) form a new group for later steps (docs/language.md#filter).
 */
import { HostError } from '../errors.js';
import type { Located } from '../model/playbook.js';
import type { StepCommon, PlanStepBase, StepKindDef } from './types.js';
import {
  buildCallableFields,
  callableData,
  callableLines,
  performCallable,
  preview,
  type CallableFields,
  type PlanCallableFields,
} from './run-callable.js';
import { HOST_NAME_PATTERN } from '../lang/names.js';

export interface FilterStep extends StepCommon, CallableFields {
  kind: 'filter';
  exclude: boolean;
  as: Located<string>;
}

export interface PlanFilter extends PlanStepBase, PlanCallableFields {
  kind: 'filter';
  exclude: boolean;
  as: string;
}

export const filterKind: StepKindDef<FilterStep, PlanFilter> = {
  kind: 'filter',
  schema: {
    key: {
      type: 'string',
      minLength: 1,
      description: 'Name of a callable returning a boolean per host; the hosts where it is true form the group `as`.',
    },
    props: {
      args: {
        type: 'object',
        description: 'Arguments for the callable; strings are templates ({host}, {vars.X}, {hostvars.X}, {results.R...}).',
      },
      exclude: { type: 'boolean', description: 'Make `as` the hosts where the callable returned false (false).' },
      as: { type: 'string', pattern: HOST_NAME_PATTERN, description: 'Name of the group of hosts where the filter was true.' },
    },
    required: ['as'],
  },
  build(raw, common, ctx) {
    const f = buildCallableFields('filter', raw, ctx);
    const as = ctx.loc('as');
    if (!f || !as) return undefined; // reported by the schema
    return { ...common, kind: 'filter', ...f, exclude: raw.exclude === true, as, makes: as };
  },
  check(step, ctx) {
    ctx.checkCallable(step.callable, step.args);
  },
  compile(step, base, ctx) {
    return {
      ...base,
      kind: 'filter',
      callable: step.callable.value,
      readonly: ctx.readonlyOf(step.callable.value),
      args: step.args,
      exclude: step.exclude,
      as: step.as.value,
      group: { name: step.as.value, member: !step.exclude },
    };
  },
  describe: (s, vars) => callableLines('filter', s, vars, ` → group ${s.as}${s.exclude ? ' (hosts where false)' : ''}`),
  data: (s, vars) => ({ ...callableData(s, vars), exclude: s.exclude, as: s.as }),
  readOnly: (step) => step.readonly,
  async perform(step, ctx, signal) {
    const out = await performCallable(step, ctx, signal);
    if (!out.skipped && typeof out.value !== 'boolean') {
      throw new HostError('invalid_result', `${ctx.host}: filter ${step.callable} must return true or false, got ${preview(out.value)}`);
    }
    return out;
  },
};
