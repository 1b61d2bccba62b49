/**
 * The two error families of Chopsticks.
 *
 * - PlaybookProblem: something wrong with the playbook or inventory text. Collected, never
 *   thrown one at a time, so `validate` can show every problem at once. Positions are
 *   byte offsets into the source; line and column are computed only when printed.
 * - HostError: what went wrong on one host during a run (Chopsticks' ErrorResult).
 */

export type ProblemCode =
  | 'yaml_syntax'
  | 'duplicate_key'
  | 'alias_limit'
  | 'schema'
  | 'unknown_key'
  | 'unknown_name'
  | 'ambiguous_name'
  | 'cycle'
  | 'fetch_collision'
  | 'host_name'
  | 'host_conflict'
  | 'unknown_callable'
  | 'callable_args'
  | 'callable_load'
  | 'template'
  | 'outcome_before_step'
  | 'octal_mode'
  | 'group_expr'
  | 'file_not_found'
  | 'rule'
  | 'io';

export interface SourcePos {
  /** Absolute or as-given path of the file the problem is in. */
  file: string;
  /** 1-based line and column. */
  line: number;
  col: number;
}

export interface PlaybookProblem {
  code: ProblemCode;
  message: string;
  pos: SourcePos;
}

export function formatProblem(p: PlaybookProblem): string {
  return `${p.pos.file}:${p.pos.line}:${p.pos.col}: ${p.message}`;
}

/** Thrown by `run`/`plan`/`validate` entry points when the playbook has problems (exit 4). */
export class PlaybookInvalidError extends Error {
  constructor(readonly problems: PlaybookProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PlaybookInvalidError';
  }
}

/** Command-line misuse (exit 5). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Host error kinds (docs/language.md#errors-on-hosts). */
export const ERROR_KINDS = [
  'unreachable',
  'timeout',
  'connection_lost',
  'auth_failed',
  'hostkey_unknown',
  'hostkey_mismatch',
  'failed',
  'invalid_result',
  'not_found',
  'permission_denied',
  'remote_io',
  'checksum_mismatch',
  'cancelled',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Kinds that make a host's end state `unreachable` rather than `failed`. */
const UNREACHABLE_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'unreachable',
  'auth_failed',
  'hostkey_unknown',
  'hostkey_mismatch',
  'connection_lost',
]);

/** A host's error as it appears in results: Chopsticks' ErrorResult. */
export interface ErrorResult {
  kind: ErrorKind;
  msg: string;
  /** Controller-side stack or remote stderr tail, when it helps; null otherwise. */
  tb: string | null;
  /** `connect`: a `timeout` while connecting (TCP, handshake, login, the shell's first answer). */
  phase?: 'connect';
}

/**
 * Whether an error means the host could not be reached (docs/cli.md#exit-codes): any connection,
 * authentication or host-key error, a timeout while connecting included; an operation's
 * timeout is a failure.
 */
export function isUnreachable(e: Pick<ErrorResult, 'kind' | 'phase'>): boolean {
  return UNREACHABLE_KINDS.has(e.kind) || (e.kind === 'timeout' && e.phase === 'connect');
}

/** The end state an error gives its host. */
export function endStateOf(e: Pick<ErrorResult, 'kind' | 'phase'>): 'cancelled' | 'unreachable' | 'failed' {
  return e.kind === 'cancelled' ? 'cancelled' : isUnreachable(e) ? 'unreachable' : 'failed';
}

/** A host's stderr that says it refused a write for want of rights. */
export const PERMISSION_TEXT = /Permission denied|Operation not permitted/i;
/** A host's stderr that says a write could not be done (disk full, read-only filesystem): kind `remote_io`. */
export const WRITE_ERROR_TEXT = /No space left|Disk quota|Read-only file system|I\/O error|write error|short write/i;

/**
 * A host's end state after another error: the later error decides, but an interrupt (a
 * `finally` step stopped by Ctrl-C) never hides that the host had already failed or was lost.
 */
export function laterEndState(before: string | undefined, next: ReturnType<typeof endStateOf>): ReturnType<typeof endStateOf> {
  return next === 'cancelled' && (before === 'failed' || before === 'unreachable') ? before : next;
}

/**
 * Thrown inside transports, callables and the executor for a host-level failure.
 * The executor turns it into an ErrorResult; anything else thrown is a bug (kind `failed`,
 * with the stack in `tb`).
 */
const HOST_ERROR = Symbol.for('chopsticks.HostError');

export class HostError extends Error {
  /**
   * The CLI runs from its bundle (dist/bundle/cli.cjs) while a custom callable imports
   * HostError from the package (dist/index.js): two copies of this class. A brand keeps
   * `instanceof` true across them, so a callable's kind (timeout, ...) is kept.
   */
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[HOST_ERROR] === true;
  }
  readonly [HOST_ERROR] = true;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly tb: string | null = null,
    readonly phase?: 'connect',
  ) {
    super(message);
    this.name = 'HostError';
  }

  toResult(): ErrorResult {
    return { kind: this.kind, msg: this.message, tb: this.tb, ...(this.phase ? { phase: this.phase } : {}) };
  }
}
