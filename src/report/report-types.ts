/** The run report of SPEC §8 (`--json`). schema/report.schema.json describes the same. */
import type { HostEndState, HostResult, RunStatus, StepStatus } from '../run/events.js';
import type { StepKind } from '../steps/index.js';

export interface ReportStep {
  index: number;
  name: string;
  kind: StepKind;
  status: StepStatus;
  targets: string[];
  /** Keys follow the order of `targets`. */
  results: Record<string, HostResult>;
  /** Set for the steps of `finally:`. */
  phase?: 'finally';
}

export interface RunReport {
  version: 1;
  playbook: string;
  playbook_sha256: string;
  status: RunStatus;
  check: boolean;
  started_at: string;
  duration_ms: number;
  groups: Record<string, string[]>;
  steps: ReportStep[];
  hosts: Record<string, HostEndState>;
}
