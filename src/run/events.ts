/**
 * The one event stream of a run. Every reporter (listr2, plain, quiet, JSON report,
 * JUnit, --events JSON Lines) is a consumer of these events and nothing else.
 */
import type { ErrorResult } from '../errors.js';
import type { Json } from '../model/playbook.js';
import type { Plan } from '../compile/plan-types.js';

export type StepStatus = 'ok' | 'failed' | 'aborted' | 'not_run';
export type HostEndState = 'ok' | 'failed' | 'unreachable' | 'cancelled';
export type RunStatus = 'ok' | 'failed' | 'aborted' | 'interrupted';

/**
 * A host's outcome in a `--check` run (absent outside one): `ok` a read-only step ran,
 * `would_change` a changing step did not run or found it would change the host (the value says
 * what), `unknown` a read-only step failed after an earlier would_change on the host, `skipped`
 * `check_mode: skip`. docs/language.md#check-mode
 */
export type CheckOutcome = 'ok' | 'would_change' | 'unknown' | 'failed' | 'skipped';

export type HostResult =
  | { ok: true; value: Json; changed: boolean; duration_ms: number; skipped?: boolean; skip_reason?: 'when'; outcome?: CheckOutcome }
  | { ok: false; error: ErrorResult; duration_ms: number; outcome?: CheckOutcome };

export type RunEvent =
  | { type: 'run_started'; plan: Plan; check: boolean; started_at: string }
  | { type: 'batch_started'; batch: number; hosts: string[] }
  | { type: 'step_started'; step: number; name: string; targets: string[] }
  | { type: 'host_started'; step: number; host: string; attempt: number }
  | { type: 'host_progress'; step: number; host: string; bytes: number; total: number | null }
  | { type: 'host_stderr'; step: number; host: string; text: string }
  | { type: 'host_result'; step: number; host: string; result: HostResult }
  /** `targets`: the hosts the step really ran on (in the free strategy known only at the end). With serial batches a step starts and finishes once per batch. */
  /** `stopped_by: 'signal'`: an aborted step that SIGINT/SIGTERM stopped, not a failure policy. */
  | { type: 'step_finished'; step: number; status: StepStatus; targets: string[]; stopped_by?: 'signal' }
  | { type: 'group_decided'; group: string; hosts: string[] }
  | { type: 'warning'; message: string; host?: string }
  | { type: 'run_finished'; status: RunStatus; duration_ms: number; hosts: Record<string, HostEndState> };

export interface Reporter {
  /** Called for every event, in order. Must not throw. */
  onEvent(ev: RunEvent): void;
  /** Flush and release the terminal / files. */
  close(): Promise<void>;
  /**
   * A line for the person at the terminal (the interrupt notice). A reporter that redraws the
   * terminal prints it above what it redraws and returns true; otherwise the caller writes it
   * to stderr, where a redraw would have erased it.
   */
  notice?(line: string): boolean;
}
