/**
 * The compiled plan: pure data, deterministic, printable by `plan` and executed by `run`.
 */
import type { HostSpec, Json, SerialSpec, StepKind, StepPolicy, Strategy } from '../model/playbook.js';
import type { SourcePos } from '../errors.js';
import type { GroupExpr } from '../lang/group-expr.js';

/** What is known before the run about a set of hosts: lower ⊆ actual ⊆ upper (both in definition order). */
export interface HostBounds {
  lower: string[];
  upper: string[];
}

export interface PlanGroup {
  name: string;
  /** `static`: known before the run; `filter`: made by a filter step (decided at run time). */
  source: 'static' | 'filter';
  hosts: HostBounds;
  /** For filter groups: the index of the step that makes it. */
  step?: number;
}

export interface PlanStepBase {
  index: number;
  name: string;
  kind: StepKind;
  /** The `on:` expression, parsed, with --limit already intersected. */
  on: GroupExpr;
  onText: string;
  targets: HostBounds;
  register?: string;
  policy: StepPolicy;
  pos: SourcePos;
}

export interface PlanCall extends PlanStepBase {
  kind: 'call';
  callable: string;
  readonly: boolean;
  /** Args as templates (strings may hold placeholders). */
  args: Record<string, Json>;
}

export interface PlanFilter extends PlanStepBase {
  kind: 'filter';
  callable: string;
  readonly: boolean;
  args: Record<string, Json>;
  exclude: boolean;
  as: string;
}

export interface PlanPut extends PlanStepBase {
  kind: 'put';
  /** Local path template, resolved against the playbook folder when it has no placeholder. */
  src: string;
  to?: string;
  mode: number;
  /** Filled by the plan command's edge (it reads the file), not by the pure compiler. */
  local?: { path: string; size: number; sha1sum: string } | { path: string; error: string };
}

export interface PlanFetch extends PlanStepBase {
  kind: 'fetch';
  src: string;
  to?: string;
}

export type PlanStep = PlanCall | PlanFilter | PlanPut | PlanFetch;

export interface Plan {
  version: 1;
  playbook: string;
  playbook_sha256: string;
  name?: string;
  baseDir: string;
  vars: Record<string, Json>;
  hosts: HostSpec[];
  groups: PlanGroup[];
  strategy: Strategy;
  serial?: SerialSpec;
  limit?: string;
  /** `--shard I/N`; its hosts are also a static group named `shard(I/N)`. */
  shard?: { index: number; count: number };
  steps: PlanStep[];
  /** Set by `--resume REPORT`: the hosts that run again and the step each starts from. */
  resume?: { report: string; from: Record<string, number> };
  /** Custom callables: name → module path#export. */
  callables: Record<string, { module: string; exportName: string; readonly: boolean }>;
}

