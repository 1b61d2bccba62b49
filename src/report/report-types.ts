/** The run report (`--json`, docs/cli.md#the-run-report---json). schema/report.schema.json describes the same. */
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
  /** `--shard I/N`: this report covers shard `index` of `count` (docs/ci.md). */
  shard?: {
    index: number;
    count: number;
    /** Every host of the playbook (all shards), in definition order: how `report merge` orders hosts. */
    host_order?: string[];
  };
  /** Set by `report merge`: the shard reports it was made from. */
  merged_from?: Array<{ index: number; count: number; started_at: string; duration_ms: number; status: RunStatus }>;
  groups: Record<string, string[]>;
  steps: ReportStep[];
  hosts: Record<string, HostEndState>;
}
