/**
 * The registry of step kinds. Adding a kind: write its module (see ./types.ts), add it to
 * STEP_KINDS and to the two unions below, regenerate the schema (`npm run gen:schema`), test it.
 * docs/architecture.md#adding-a-step-kind
 */
import { callKind, type CallStep, type PlanCall } from './call.js';
import { fetchKind, type FetchStep, type PlanFetch } from './fetch.js';
import { filterKind, type FilterStep, type PlanFilter } from './filter.js';
import { putKind, type PlanPut, type PutStep } from './put.js';
import { templateKind, type PlanTemplate, type TemplateStep } from './template.js';
import { assertKind, type AssertStep, type PlanAssert } from './assert.js';
import { syncKind, type PlanSync, type SyncStep } from './sync.js';
import type { StepKindDef } from './types.js';

export type Step = CallStep | FilterStep | PutStep | FetchStep | TemplateStep | AssertStep | SyncStep;
export type PlanStep = PlanCall | PlanFilter | PlanPut | PlanFetch | PlanTemplate | PlanAssert | PlanSync;
export type StepKind = Step['kind'];

/** Every kind, in the order its key is looked for in a step mapping. */
export const STEP_KINDS = [callKind, filterKind, putKind, fetchKind, templateKind, syncKind, assertKind];

type AnyKind = StepKindDef<Step, PlanStep>;

const BY_KIND = new Map<string, AnyKind>(STEP_KINDS.map((k) => [k.kind, k as unknown as AnyKind]));

export const STEP_KIND_NAMES: readonly StepKind[] = STEP_KINDS.map((k) => k.kind);

/**
 * The module of a kind. Typed loosely on purpose: a step and its module always agree on the kind
 * (the registry is keyed by it), which TypeScript cannot see through a union.
 */
export function kindOf(kind: StepKind): AnyKind {
  const def = BY_KIND.get(kind);
  if (!def) throw new Error(`internal: no step kind '${kind}'`);
  return def;
}

export type { CallStep, PlanCall, FilterStep, PlanFilter, PutStep, PlanPut, FetchStep, PlanFetch };
export type { TemplateStep, PlanTemplate, AssertStep, PlanAssert, SyncStep, PlanSync };
export type { PlanStepBase, StepCommon, StepKindDef, StepOutcome, PerformContext } from './types.js';
