/**
 * What a step kind is. Each kind (call, filter, put, fetch, ...) is one module in this folder that
 * owns everything about it: the schema of its keys, how its YAML becomes a model step, its
 * semantic checks, its compiled form and how `plan` shows it, and how it runs on a host
 * (check mode included). The validator, compiler, planner and executor ask the registry
 * (./index.ts) instead of switching on the kind. docs/architecture.md#adding-a-step-kind
 */
import type { ProblemCode, SourcePos } from '../errors.js';
import type { GroupExpr, HostBounds } from '../lang/group-expr.js';
import type { Json, Located, OnExpr, StepPolicy } from '../model/playbook.js';
import type { JsonPath } from '../parse/parse-yaml.js';
import type { Callable, CallOutcome } from '../callables/types.js';
import type { HostSession } from '../transports/session.js';

/** Keys every step takes, whatever its kind. */
export interface StepCommon {
  index: number;
  /** `name:` or a generated one such as `call facts.os`. */
  name: string;
  /** Target expression (default `all`), parsed once by validation. */
  on: OnExpr;
  register?: Located<string>;
  /** A group this step makes (a filter's `as`), for name checks of later steps. */
  makes?: Located<string>;
  policy: StepPolicy;
  pos: SourcePos;
  /** `when: RULE` (docs/language.md#when): hosts where it is false skip the step. */
  when?: Located<Json>;
  /** `loop: LIST | "{vars.NAME}"` (docs/language.md#loop): the step runs once per item. */
  loop?: Located<Json[] | string>;
  /** `run_once: true`: runs on the first target only, its value registered for every target. */
  run_once?: boolean;
  /** Set for the steps of the top-level `finally:` list. */
  phase?: 'finally';
  /** Where the step's mapping is in the YAML (`['steps', i]` or `['finally', i]`). */
  path?: JsonPath;
  /** Vars given by the `include:` this step came from, over the playbook's (docs/language.md#include). */
  vars?: Record<string, Json>;
}

/** The compiled form every step shares. */
export interface PlanStepBase {
  index: number;
  name: string;
  /** The `on:` expression, parsed, with --limit already intersected. */
  on: GroupExpr;
  onText: string;
  targets: HostBounds;
  register?: string;
  /** A group decided by this step: the hosts whose value is `member` join `name`. */
  group?: { name: string; member: boolean };
  policy: StepPolicy;
  pos: SourcePos;
  when?: Json;
  loop?: Json[] | string;
  run_once?: boolean;
  phase?: 'finally';
  /** Vars given by the `include:` this step came from, over the playbook's. */
  vars?: Record<string, Json>;
}

/** JSON Schema of a kind's own keys; composed into schema/playbook.schema.json (src/steps/schema.ts). */
export interface KindSchema {
  /** Schema of the key that names the kind (`put: FILE`). */
  key: Record<string, unknown>;
  /** The kind's other keys. */
  props: Record<string, Record<string, unknown>>;
  required: string[];
}

/** Given to `build`: the raw step mapping and where it sits in its YAML file. */
export interface BuildContext {
  /** A string key of the step as a located value (undefined when absent or not a string). */
  loc(key: string): Located<string> | undefined;
  /** Position of a key or value inside the step. */
  pos(sub: JsonPath, which?: 'key' | 'value'): SourcePos;
}

/** Given to `check`: report problems, check templates and callables in context. */
export interface CheckContext {
  add(code: ProblemCode, message: string, pos: SourcePos): void;
  /** Check a template string found at `sub` inside the step (registers known before this step). */
  checkTemplate(text: string, sub: JsonPath): void;
  /** Check a JSON Logic rule found at `sub` inside the step (`result` allowed for changed_when). */
  checkRule(rule: Json, sub: JsonPath, opts?: { result?: boolean }): void;
  /** Check every string in `args` as a template, and the args against the callable's schema. */
  checkCallable(callable: Located<string>, args: Record<string, Json>): void;
  /** Hosts this step may target (static bounds; --limit not applied). */
  targets: HostBounds;
  vars: Readonly<Record<string, Json>>;
  hostVars(host: string): Readonly<Record<string, Json>>;
  baseDir: string;
  /** What is at a local path (validation is allowed to look; the compiler is not). */
  localPath(path: string): 'file' | 'folder' | 'missing' | 'other';
  /** An earlier step may run on a `local` host: it may make local files (a build) before this step. */
  localStepBefore?: boolean;
  /** Text outside the playbook the step reads vars from (a template file): `--var` names it mentions are not typos. */
  mentions(text: string): void;
}

export interface CompileContext {
  /** Whether a callable only reads (built-in flag or the module's `readonly` export). */
  readonlyOf(callable: string): boolean;
}

/** One line of `plan` text: a label and its text. */
export type PlanLine = [label: string, text: string];

/** Everything one host's run of a step needs; built by the executor (src/run/host-step.ts). */
export interface PerformContext {
  host: string;
  hostVars: Record<string, Json>;
  vars: Record<string, Json>;
  baseDir: string;
  check: boolean;
  /** `--diff`: kinds that write files put a unified diff in their value (`diff`; src/steps/diff.ts). */
  diff: boolean;
  maxResult: number;
  results: Record<string, Json>;
  /** Secret values of the run (read when it started); see ./run-callable.ts for how they travel. */
  secrets?: Record<string, string>;
  session(): Promise<HostSession>;
  callable(name: string): Promise<Callable>;
  /** A private folder on the controller while `fn` runs, removed after and by an urgent exit (a second Ctrl-C). */
  privateTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T>;
  onStderr: (text: string) => void;
  onProgress: (bytes: number, total: number | null) => void;
  /** The current item of a `loop:` (templates see `{item}`). */
  item?: Json;
}

export interface StepOutcome extends CallOutcome {
  /** Not run because of check mode (a changing step: the value says what would run), or (`skip_reason: 'when'`) because `when` was false. */
  skipped?: boolean;
  skip_reason?: 'when';
}

export interface StepKindDef<S extends StepCommon & { kind: string }, P extends PlanStepBase & { kind: S['kind'] }> {
  kind: S['kind'];
  schema: KindSchema;
  /** Takes `loop:` (docs/language.md#loop). */
  loops?: boolean;
  /** The raw step mapping → the model step; undefined when the schema check already reported it broken. */
  build(raw: Record<string, unknown>, common: StepCommon, ctx: BuildContext): S | undefined;
  /** Semantic checks of this kind's own keys (the common keys are checked by src/validate/rules/). */
  check(step: S, ctx: CheckContext): void;
  compile(step: S, base: PlanStepBase, ctx: CompileContext): P;
  /** `plan` text lines for the kind's own keys (vars filled where known). */
  describe(step: P, vars: Record<string, Json>): PlanLine[];
  /** `plan --json` fields for the kind's own keys. */
  data(step: P, vars: Record<string, Json>): Record<string, Json>;
  /**
   * Changes nothing on the host. In check mode, only such a step's failure on a host with an
   * earlier would_change is `unknown` (it may depend on the change not made): docs/language.md#check-mode.
   */
  readOnly(step: P): boolean;
  /** Run on one host. Throws HostError; the executor turns it into the host's result. */
  perform(step: P, ctx: PerformContext, signal: AbortSignal): Promise<StepOutcome>;
}
