import type { Json } from '../model/playbook.js';
import type { HostSession } from '../transports/session.js';

export interface CallContext {
  session: HostSession;
  hostName: string;
  hostVars: Readonly<Record<string, Json>>;
  args: Record<string, Json>;
  /** Folder relative local paths (script) are resolved against. */
  baseDir: string;
  become?: string;
  /** The run's interrupt and the step's timeout, one deadline: its reason is the HostError to report. */
  signal: AbortSignal;
  onStderr?: (text: string) => void;
  /** Byte limit for results (`max_result`, 1 MiB by default: docs/language.md#steps). */
  maxResult: number;
  /** Call another callable by name (used by HostHandle.call). */
  call(name: string, args: Record<string, Json>): Promise<Json>;
  /** `--diff`: a callable that changes text content puts a unified diff in its value as `diff`. */
  diff?: boolean;
}

/** What a mutating callable would do, found in check mode without changing the host. */
export interface CheckOutcome {
  would_change: boolean;
  value: Json;
}

export interface CallOutcome {
  value: Json;
  changed: boolean;
  /** What a command ended with, for `changed_when` (command, shell, script). */
  result?: { stdout: string; stderr: string; rc: number };
}

export interface Callable {
  name: string;
  /** Read-only callables run in --check; mutating ones are reported as skipped. */
  readonly: boolean;
  /** JSON Schema for args, checked at validation time. */
  schema?: object;
  /** The value must be JSON; `changed` says whether the host was modified. */
  invoke(ctx: CallContext): Promise<CallOutcome>;
  /**
   * Check mode for a mutating callable: what invoke would change, read without changing
   * anything. Undefined (or a method returning undefined) means it cannot tell: the step is
   * reported as skipped.
   */
  check?(ctx: CallContext): Promise<CheckOutcome | undefined>;
}

/** A built-in callable: what validation checks (its signature) and what it does, declared together. */
export interface BuiltinCallable extends Callable {
  /** JSON Schema (2020-12) for `args`. */
  schema: Record<string, unknown>;
  /** One line for `chopsticks schema` and the docs. */
  description: string;
}
