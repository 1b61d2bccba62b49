/** Each step kind's own checks (src/steps/<kind>.ts `check`), given what they need in context. */
import { closest } from '../../lang/groups.js';
import { resolveTargets } from '../../lang/targets.js';
import { checkTemplate, isTemplate, type TemplateKnown } from '../../lang/templates.js';
import { preview } from '../../steps/paths.js';
import { checkRule } from '../../lang/rules.js';
import type { Json, Located } from '../../model/playbook.js';
import { findPos, nodeAt, posInScalar, type JsonPath } from '../../parse/parse-yaml.js';
import { kindOf, STEP_KINDS } from '../../steps/index.js';
import type { CheckContext } from '../../steps/types.js';
import { BUILTIN_NAMES, builtinSignature, isReadonlyCallable } from '../../callables/builtins.js';
import { checkArgs, withVarsFilled } from '../callable-args.js';
import { octalModeMessage } from '../schema-check.js';
import type { Rule, AddProblem } from './types.js';

const SECRET_REF = /(?<!\{)\{secrets\./;

/**
 * A secret must never be in the argv of a process (docs/language.md#secrets). A built-in
 * callable's args become argv and paths, except where they travel in the environment or on
 * stdin: `env:` values and `stdin:` of any callable, shell's `cmd` (its secrets are passed in
 * the environment), and what `line` computes on the controller. Everything else is refused. A
 * custom callable gets its args as values on the controller: what it does with them is its own.
 */
const SECRET_ARGS: Readonly<Record<string, readonly string[]>> = { shell: ['cmd'], line: ['line', 'regexp', 'insert_after'] };

function checkSecretPlaces(
  callable: string,
  args: Record<string, Json>,
  at: (sub: JsonPath) => ReturnType<typeof findPos>,
  add: AddProblem,
): void {
  const walk = (v: Json, sub: JsonPath): void => {
    if (typeof v === 'string') {
      if (SECRET_REF.test(v))
        add(
          'template',
          `a secret cannot be in ${callable}'s ${String(sub[0])}: it would be in a process's argv or a path on the host, visible in ps; pass it in env: or stdin:, or use shell with "{secrets.NAME}"`,
          at(sub),
        );
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...sub, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...sub, k]);
  };
  for (const [k, v] of Object.entries(args)) {
    if (k === 'env' || k === 'stdin' || SECRET_ARGS[callable]?.includes(k)) continue;
    walk(v, [k]);
  }
}

/** Step fields that are paths on the controller or the host: a secret there would be in argv. */
const PATH_FIELDS = new Set(['put', 'fetch', 'template', 'sync', 'to']);

export const checkStepKinds: Rule = (m, add) => {
  const { playbook, loaded } = m;
  const hostVars = new Map(playbook.hosts.map((h) => [h.name, h.vars]));
  const hostvarNames = new Set<string>();
  for (const h of playbook.hosts) for (const k of Object.keys(h.vars)) hostvarNames.add(k);
  const custom = new Map(loaded.callables.map((c) => [c.name, c]));
  const targets = resolveTargets({
    hosts: playbook.hosts.map((h) => h.name),
    groups: playbook.groups.map((g) => ({ name: g.name, expr: g.parsed })),
    steps: playbook.steps.map((s) => ({ on: s.on.expr, register: s.register?.value, makes: s.makes?.value })),
  });
  const registersBefore = new Set<string>();
  /** Each register's step (1-based) and the hosts it may run on. */
  const registeredOn = new Map<string, { step: number; hosts: ReadonlySet<string> }>();
  const localHosts = new Set(playbook.hosts.filter((h) => h.transport === 'local').map((h) => h.name));
  let localStepBefore = false;
  const secretNames = new Set(Object.keys(playbook.secrets));
  /**
   * Whether a step may make a file on the controller that a later put sends (a build): a fetch
   * writes there, and a step that changes a local host changes the controller. A read-only step
   * (ping, facts, test, assert) does not, so a missing source after it is still a problem.
   */
  const mayMakeLocalFiles = (step: (typeof playbook.steps)[number], upper: readonly string[]): boolean => {
    if (step.kind === 'fetch') return true;
    if (step.kind === 'assert' || !upper.some((h) => localHosts.has(h))) return false;
    if (step.kind !== 'call' && step.kind !== 'filter') return true;
    return !isReadonlyCallable(step.callable.value, playbook.callables);
  };

  playbook.steps.forEach((step, i) => {
    // An included step sits in its own file (validate/includes.ts).
    const { src, path } = m.stepSources[step.index]!;
    const vars = step.vars ? { ...playbook.vars, ...step.vars } : playbook.vars;
    // Hosts the step surely runs on (static bounds); `when` or run_once may keep a template from
    // being filled on some of them, so those steps are not held to it.
    const sure = step.when || step.run_once ? [] : targets.steps[i]!.targets.lower;
    const missingOn = (root: 'hostvars' | 'results', name: string): string | undefined => {
      if (root === 'hostvars') {
        const h = sure.find((x) => !Object.hasOwn(hostVars.get(x) ?? {}, name));
        return h === undefined
          ? undefined
          : `host '${h}' has no var '${name}', and this step runs on it; give it the var (in its vars, group_vars or host_defaults) or leave it out of on:`;
      }
      const reg = registeredOn.get(name);
      const h = reg && sure.find((x) => !reg.hosts.has(x));
      return h === undefined
        ? undefined
        : `step ${reg!.step} (register: ${name}) never runs on '${h}', and this step does, so it has no results.${name} there; narrow on: (e.g. ok(${name}))`;
    };
    const known: TemplateKnown = {
      vars,
      registers: registersBefore,
      hostvarNames,
      secrets: secretNames,
      item: step.loop !== undefined,
      missingOn,
    };
    const checkRuleAt = (rule: Json, sub: JsonPath, opts?: { result?: boolean }): void => {
      for (const p of checkRule(rule, { ...known, result: opts?.result === true }))
        add('rule', p.message, findPos(src, [...path, ...sub, ...p.path], 'key'));
    };
    const checkTemplateAt = (text: string, sub: JsonPath): void => {
      for (const t of checkTemplate(text, known)) add('template', t.message, posInScalar(src, [...path, ...sub], t.offset));
      if (sub.length === 1 && PATH_FIELDS.has(String(sub[0])) && SECRET_REF.test(text))
        add(
          'template',
          `a secret cannot be in ${String(sub[0])}: it is a path, which is in a process's argv on the host (visible in ps); keep secrets in file content (template) or env:`,
          findPos(src, [...path, ...sub]),
        );
    };
    const checkArgTemplates = (v: Json, rel: JsonPath): void => {
      if (typeof v === 'string') checkTemplateAt(v, ['args', ...rel]);
      else if (Array.isArray(v)) v.forEach((x, j) => checkArgTemplates(x, [...rel, j]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) checkArgTemplates(x, [...rel, k]);
    };
    const checkCallable = (callable: Located<string>, args: Record<string, Json>): void => {
      checkArgTemplates(args, []);
      const builtin = builtinSignature(callable.value);
      if (builtin) checkSecretPlaces(callable.value, args, (sub) => findPos(src, [...path, 'args', ...sub]), add);
      const mine = custom.get(callable.value);
      if (!builtin && !mine) {
        const hint = closest(callable.value, [...BUILTIN_NAMES, ...[...custom.values()].filter((c) => c.info).map((c) => c.name)]);
        add(
          'unknown_callable',
          `unknown callable '${callable.value}'${hint ? `; did you mean '${hint}'?` : '; declare it under callables: or use a built-in such as facts.os, command, shell'}`,
          callable.pos,
        );
        return;
      }
      const schema = builtin ? builtin.schema : mine!.info?.schema; // a module that failed to load was reported
      if (!schema) return;
      const key = builtin ? `builtin:${callable.value}` : `custom:${mine!.module}#${mine!.exportName}`;
      const argsWritten = nodeAt(src, [...path, 'args']) !== undefined;
      const filled = withVarsFilled(args, vars) as Record<string, Json>;
      for (const p of checkArgs(callable.value, key, schema, filled)) {
        const written = valueAt(args, p.path);
        const from =
          typeof written === 'string' && isTemplate(written) ? ` (${written} is ${preview(valueAt(filled, p.path) ?? null)})` : '';
        // Missing args with no `args:` at all: blame the callable's name.
        const pos = p.path.length || argsWritten ? findPos(src, [...path, 'args', ...p.path], p.which) : callable.pos;
        // `mode: 0644` is YAML's integer 644: the same hint as put's mode (file's mode is a string too).
        const mode = p.path.length === 1 && p.path[0] === 'mode' ? args.mode : undefined;
        if (typeof mode === 'number')
          add('octal_mode', `${callable.value}: ${octalModeMessage(src, [...path, 'args', 'mode'], mode)}`, pos);
        else add('callable_args', `${p.message}${from}`, pos);
      }
    };
    const ctx: CheckContext = {
      add,
      checkTemplate: checkTemplateAt,
      checkRule: checkRuleAt,
      checkCallable,
      targets: targets.steps[i]!.targets,
      vars,
      hostVars: (h) => hostVars.get(h) ?? {},
      baseDir: playbook.baseDir,
      localPath: (p) => loaded.localPath(p),
      localStepBefore,
      mentions: (text) => m.mentioned.push(text),
    };
    if (step.when) checkRuleAt(step.when.value, ['when']);
    if (step.loop) checkLoop(step.loop, step.kind, playbook.vars, add, (t) => checkTemplateAt(t, ['loop']));
    kindOf(step.kind).check(step, ctx);
    if (mayMakeLocalFiles(step, targets.steps[i]!.targets.upper)) localStepBefore = true;
    if (step.register) {
      registersBefore.add(step.register.value);
      registeredOn.set(step.register.value, { step: i + 1, hosts: new Set(targets.steps[i]!.targets.upper) });
    }
  });
};

function checkLoop(
  loop: Located<Json[] | string>,
  kind: string,
  vars: Readonly<Record<string, Json>>,
  add: Parameters<Rule>[1],
  checkTemplateAt: (text: string) => void,
): void {
  if (!STEP_KINDS.some((k) => k.kind === kind && k.loops === true)) {
    add('schema', `loop: a ${kind} step cannot loop; loop works on call, put and template steps`, loop.pos);
    return;
  }
  if (typeof loop.value !== 'string') return;
  checkTemplateAt(loop.value);
  const name = /^\{vars\.([A-Za-z0-9_-]+)\}$/.exec(loop.value)?.[1];
  if (name !== undefined && Object.prototype.hasOwnProperty.call(vars, name) && !Array.isArray(vars[name])) {
    add('schema', `loop: vars.${name} is ${JSON.stringify(vars[name]).slice(0, 40)}, not a list; loop needs a list`, loop.pos);
  }
}

/** The value at `path` inside args, or undefined. */
function valueAt(v: Json, path: readonly string[]): Json | undefined {
  let at: Json | undefined = v;
  for (const k of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = Array.isArray(at) ? at[Number(k)] : at[k];
  }
  return at;
}
