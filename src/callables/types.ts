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
  timeoutMs?: number;
  signal: AbortSignal;
  onStderr?: (text: string) => void;
  /** Byte limit for results (`max_result`, 1 MiB by default: docs/language.md#steps). */
  maxResult: number;
  /** Call another callable by name (used by HostHandle.call). */
  call(name: string, args: Record<string, Json>): Promise<Json>;
}

export interface CallOutcome {
  value: Json;
  changed: boolean;
}

export interface Callable {
  name: string;
  /** Read-only callables run in --check; mutating ones are reported as skipped. */
  readonly: boolean;
  /** JSON Schema for args, checked at validation time. */
  schema?: object;
  /** The value must be JSON; `changed` says whether the host was modified. */
  invoke(ctx: CallContext): Promise<CallOutcome>;
}
