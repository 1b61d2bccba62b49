/**
 * What `call` and `filter` share: a callable named in the step, its args as templates, and the
 * JSON-only rule for what comes back (docs/language.md#steps).
 */
import { HostError } from '../errors.js';
import { checkJsonValue } from '../lang/json-guard.js';
import { renderArgs, type TemplateEnv } from '../lang/templates.js';
import { evalRule, truthy } from '../lang/rules.js';
import type { SourcePos } from '../errors.js';
import type { Json, Located } from '../model/playbook.js';
import type { CallContext } from '../callables/types.js';
import { fillVarsInValue } from './fill-vars.js';
import { templateEnv } from './paths.js';
import type { BuildContext, PerformContext, PlanLine, PlanStepBase, StepOutcome } from './types.js';

export interface CallableFields {
  callable: Located<string>;
  args: Record<string, Json>;
  /** Positions of each arg for template errors, keyed by dotted path (`cmd`, `argv.0`). */
  argPos: Record<string, SourcePos>;
}

export interface PlanCallableFields {
  callable: string;
  readonly: boolean;
  /** Args as templates (strings may hold placeholders). */
  args: Record<string, Json>;
}

const isObj = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function buildCallableFields(kind: string, raw: Record<string, unknown>, ctx: BuildContext): CallableFields | undefined {
  const callable = ctx.loc(kind);
  if (!callable) return undefined;
  const args = isObj(raw.args) ? raw.args : {};
  const argPos: Record<string, SourcePos> = {};
  const walk = (v: Json, rel: string[]): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...rel, String(i)]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...rel, k]);
    else if (rel.length) argPos[rel.join('.')] = ctx.pos(['args', ...rel]);
  };
  walk(args, []);
  return { callable, args, argPos };
}

export function callableLines(kind: string, s: PlanCallableFields, vars: Record<string, Json>, extra = ''): PlanLine[] {
  const lines: PlanLine[] = [[kind, `${s.callable}${s.readonly ? ' (read-only)' : ' (changes hosts)'}${extra}`]];
  if (Object.keys(s.args).length) lines.push(['args', JSON.stringify(fillVarsInValue(s.args, vars))]);
  return lines;
}

export function callableData(s: PlanCallableFields, vars: Record<string, Json>): Record<string, Json> {
  return { callable: s.callable, readonly: s.readonly, args: s.args, args_filled: fillVarsInValue(s.args, vars) };
}

/**
 * Run the step's callable on the host. In check mode a mutating one runs its `check` (what it
 * would change) when it has one, and is skipped otherwise. `changed_when` (a rule, never
 * rendered as a template) decides `changed` from the command's result.
 */
export async function performCallable(
  step: PlanStepBase & PlanCallableFields,
  ctx: PerformContext,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const callable = await ctx.callable(step.callable);
  const env: TemplateEnv = templateEnv(ctx);
  const { changed_when: changedWhen, ...templated } = step.args;
  const rendered = renderArgs(step.callable === 'shell' && ctx.secrets ? secretsAsEnv(templated, ctx.secrets) : templated, env);
  if (ctx.check && !callable.readonly && !callable.check) {
    // Not run; its value says what would run. Args that need results of steps not run stay as written.
    return { value: { would_run: step.callable, args: rendered.ok ? rendered.value : templated }, changed: true, skipped: true };
  }
  if (!rendered.ok) throw new HostError('failed', `${ctx.host}: ${rendered.message} (in args.${rendered.path})`);
  const session = await ctx.session();
  const callCtx: CallContext = {
    session,
    hostName: ctx.host,
    hostVars: ctx.hostVars,
    args: rendered.value,
    baseDir: ctx.baseDir,
    become: step.policy.become,
    signal,
    onStderr: ctx.onStderr,
    maxResult: ctx.maxResult,
    diff: ctx.diff,
    call: async (name, args) => (await (await ctx.callable(name)).invoke({ ...callCtx, args })).value,
  };
  if (ctx.check && !callable.readonly) {
    const would = await callable.check!(callCtx);
    // No answer from the callable's check: it would run, as any changing call (its value says what).
    if (!would) return { value: { would_run: step.callable, args: rendered.value }, changed: true, skipped: true };
    const v = checkJsonValue(would.value, { maxBytes: ctx.maxResult });
    if (!v.ok) throw new HostError('invalid_result', `${ctx.host}: ${step.callable} returned a value that is not allowed: ${v.message}`);
    return { value: v.value, changed: would.would_change };
  }
  const out = await callable.invoke(callCtx);
  if (changedWhen !== undefined && out.result) {
    try {
      out.changed = truthy(
        evalRule(changedWhen, {
          host: ctx.host,
          vars: ctx.vars,
          hostvars: ctx.hostVars,
          results: ctx.results,
          ...(ctx.item !== undefined ? { item: ctx.item } : {}),
          result: out.result,
        }),
      );
    } catch (e) {
      throw new HostError('failed', `${ctx.host}: changed_when: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const checked = checkJsonValue(out.value, { maxBytes: ctx.maxResult });
  if (!checked.ok) {
    throw new HostError('invalid_result', `${ctx.host}: ${step.callable} returned a value that is not allowed: ${checked.message}`);
  }
  return { value: checked.value, changed: out.changed };
}

/**
 * A shell command line is a process's argv on the host (`sh -c CMD`), so a secret never goes
 * into it: `{secrets.NAME}` becomes `${CHOPSTICKS_SECRET_NAME}` and the value travels in the
 * command's environment, which the session sets inside its shell without any argv
 * (transports/shell-session.ts). Write it in double quotes like any shell variable.
 */
function secretsAsEnv(args: Record<string, Json>, secrets: Record<string, string>): Record<string, Json> {
  if (typeof args.cmd !== 'string') return args;
  const env: Record<string, Json> = { ...(isObj(args.env) ? args.env : {}) };
  const cmd = args.cmd.replace(/(?<!\{)\{secrets\.([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(secrets, name)) return whole;
    env[`CHOPSTICKS_SECRET_${name}`] = `{secrets.${name}}`;
    return `\${{CHOPSTICKS_SECRET_${name}}}`;
  });
  return { ...args, cmd, env };
}

export { preview } from './paths.js';
