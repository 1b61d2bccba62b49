/** `call: NAME` with `args`: run a callable on every target, JSON results (docs/language.md#call). */
import type { StepCommon, PlanStepBase, StepKindDef } from './types.js';
import {
  buildCallableFields,
  callableData,
  callableLines,
  performCallable,
  type CallableFields,
  type PlanCallableFields,
} from './run-callable.js';

export interface CallStep extends StepCommon, CallableFields {
  kind: 'call';
}

export interface PlanCall extends PlanStepBase, PlanCallableFields {
  kind: 'call';
}

export const callKind: StepKindDef<CallStep, PlanCall> = {
  kind: 'call',
  loops: true,
  schema: {
    key: {
      type: 'string',
      minLength: 1,
      description: 'Name of the callable to run on every target (built-in such as facts.os, or from `callables`).',
    },
    props: {
      args: {
        type: 'object',
        description: 'Arguments for the callable; strings are templates ({host}, {vars.X}, {hostvars.X}, {results.R...}).',
      },
    },
    required: [],
  },
  build(raw, common, ctx) {
    const f = buildCallableFields('call', raw, ctx);
    return f && { ...common, kind: 'call', ...f };
  },
  check(step, ctx) {
    ctx.checkCallable(step.callable, step.args);
    if (step.args.changed_when !== undefined) ctx.checkRule(step.args.changed_when, ['args', 'changed_when'], { result: true });
  },
  compile(step, base, ctx) {
    return { ...base, kind: 'call', callable: step.callable.value, readonly: ctx.readonlyOf(step.callable.value), args: step.args };
  },
  describe: (s, vars) => callableLines('call', s, vars),
  data: (s, vars) => callableData(s, vars),
  readOnly: (step) => step.readonly,
  perform: (step, ctx, signal) => performCallable(step, ctx, signal),
};
