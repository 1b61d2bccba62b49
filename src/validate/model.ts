/**
 * The validated playbook: the model the validate stage hands to the compiler. Its step types are
 * declared by the step-kind modules (src/steps/); everything else is in src/model/playbook.ts.
 */
import type { GroupExpr } from '../lang/group-expr.js';
import type { Step } from '../steps/index.js';
import type { CallableRef, GroupDef, HostSpec, Json, SecretSource, SerialSpec, Strategy } from '../model/playbook.js';

export type { Step, StepKind } from '../steps/index.js';

export interface Playbook {
  version: 1;
  /** Path as given on the command line. */
  file: string;
  /** Folder that relative paths in the playbook are resolved against. */
  baseDir: string;
  /** sha256 of the playbook text (hex), for reports and --resume. */
  sha256: string;
  name?: string;
  vars: Record<string, Json>;
  /** Declared secrets; their values are read by `run` only. */
  secrets: Record<string, SecretSource>;
  /** In definition order (inventory hosts first, then the playbook's). */
  hosts: HostSpec[];
  groups: GroupDef[];
  callables: CallableRef[];
  strategy: Strategy;
  serial?: SerialSpec;
  steps: Step[];
  /** `--limit EXPR`, checked by validation (names known, no outcome sets). */
  limit?: { text: string; expr: GroupExpr };
}
