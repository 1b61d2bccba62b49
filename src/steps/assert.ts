/**
 * `assert: RULE` with `msg`: the hosts where the JSON Logic rule is false fail, kind `failed`, with
 * that message (docs/language.md#assert). Decided on the controller: no session is opened.
 */
import { HostError } from '../errors.js';
import { evalRule, ruleText, truthy } from '../lang/rules.js';
import { renderTemplate } from '../lang/templates.js';
import type { Json, Located } from '../model/playbook.js';
import { fillVarsOnly } from './fill-vars.js';
import { templateEnv } from './paths.js';
import type { PlanStepBase, StepCommon, StepKindDef } from './types.js';

export interface AssertStep extends StepCommon {
  kind: 'assert';
  rule: Json;
  msg?: Located<string>;
}

export interface PlanAssert extends PlanStepBase {
  kind: 'assert';
  rule: Json;
  msg?: string;
}

export const assertKind: StepKindDef<AssertStep, PlanAssert> = {
  kind: 'assert',
  schema: {
    key: {
      type: ['object', 'boolean'],
      description: 'A JSON Logic rule (jsonlogic.com) over host, vars.*, hostvars.*, results.R.*: the hosts where it is false fail.',
    },
    props: {
      msg: {
        type: 'string',
        minLength: 1,
        description: 'Message of the failure (a template), e.g. "{host} runs {results.os.id}, not debian".',
      },
    },
    required: [],
  },
  build(raw, common, ctx) {
    if (raw.assert === undefined) return undefined;
    const msg = ctx.loc('msg');
    return { ...common, kind: 'assert', rule: raw.assert as Json, ...(msg ? { msg } : {}) };
  },
  check(step, ctx) {
    ctx.checkRule(step.rule, ['assert']);
    if (step.msg) ctx.checkTemplate(step.msg.value, ['msg']);
  },
  compile(step, base) {
    return { ...base, kind: 'assert', rule: step.rule, ...(step.msg ? { msg: step.msg.value } : {}) };
  },
  describe(s, vars) {
    const lines: Array<[string, string]> = [['assert', ruleText(s.rule)]];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- plan display keeps String() of the filled value, as before
    if (s.msg !== undefined) lines.push(['msg', String(fillVarsOnly(s.msg, vars))]);
    return lines;
  },
  data(s) {
    return { rule: s.rule, msg: s.msg ?? null };
  },
  readOnly: () => true,
  async perform(step, ctx) {
    let v: Json;
    try {
      v = evalRule(step.rule, {
        host: ctx.host,
        vars: ctx.vars,
        hostvars: ctx.hostVars,
        results: ctx.results,
        ...(ctx.item !== undefined ? { item: ctx.item } : {}),
      });
    } catch (e) {
      throw new HostError('failed', `${ctx.host}: assert: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (truthy(v)) return { value: true, changed: false };
    let msg = `assertion ${ruleText(step.rule)} is false`;
    if (step.msg !== undefined) {
      const r = renderTemplate(step.msg, templateEnv(ctx));
      msg = r.ok ? (typeof r.value === 'string' ? r.value : JSON.stringify(r.value)) : `${msg} (msg: ${r.message})`;
    }
    throw new HostError('failed', `${ctx.host}: ${msg}`);
  },
};
