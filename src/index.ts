/**
 * Chopsticks as a library. The three functions of api.ts cover what the CLI does; the types
 * describe playbooks, plans, events and reports; the rest is for writing custom callables
 * and reporters.
 */
export { planPlaybook, runPlan, runPlaybook, type PlanOptions, type RunPlanOptions, type RunOutcome } from './api.js';
export { formatPlanText, planToJson } from './compile/index.js';
export { createReporters, buildReport } from './report/index.js';
export { PlaybookInvalidError, HostError, formatProblem, type ErrorKind, type ErrorResult, type PlaybookProblem } from './errors.js';
export type { Plan, PlanStep } from './compile/plan-types.js';
export type { HostSpec, Json } from './model/playbook.js';
export type { Playbook, Step } from './validate/model.js';
export type { RunEvent, HostResult, Reporter, RunStatus, HostEndState } from './run/events.js';
export type { RunReport, ReportStep } from './report/report-types.js';
export type { HostHandle, RunResult, PutValue, FetchValue } from './transports/session.js';
