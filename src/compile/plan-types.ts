/**
 * The compiled plan: pure data, deterministic, printable by `plan` and executed by `run`.
 */
import type { HostSpec, Json, SecretSource, SerialSpec, Strategy } from '../model/playbook.js';
import type { HostBounds } from '../lang/group-expr.js';
import type { PlanStep } from '../steps/index.js';

export type { HostBounds } from '../lang/group-expr.js';
export type { PlanStep, PlanStepBase, PlanCall, PlanFilter, PlanPut, PlanFetch } from '../steps/index.js';

export interface PlanGroup {
  name: string;
  /** `static`: known before the run; `filter`: made by a filter step (decided at run time). */
  source: 'static' | 'filter';
  hosts: HostBounds;
  /** For filter groups: the index of the step that makes it. */
  step?: number;
}

export interface Plan {
  version: 1;
  playbook: string;
  playbook_sha256: string;
  name?: string;
  baseDir: string;
  vars: Record<string, Json>;
  /** Declared secrets (sources, never values). */
  secrets?: Record<string, SecretSource>;
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

/**
 * The first of the playbook's own steps (not `finally:`) after index `after` that may target
 * `host`, or -1: where a host that stopped after step `after` still had work (a resume starts
 * there; a run cut short leaves it `cancelled`).
 */
export function nextStepFor(plan: Pick<Plan, 'steps'>, host: string, after: number): number {
  for (let i = after + 1; i < plan.steps.length; i++) {
    const s = plan.steps[i]!;
    if (s.phase !== 'finally' && s.targets.upper.includes(host)) return i;
  }
  return -1;
}
