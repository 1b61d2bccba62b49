/**
 * The validated playbook: what the validate stage hands to the compiler.
 * Every value the compiler may need to blame carries the SourcePos of its YAML node.
 * Durations are milliseconds, modes are numbers, host strings are expanded to objects.
 * Step kinds are declared by their own modules (src/steps/), each with its model type.
 */
import type { SourcePos } from '../errors.js';
import type { GroupExpr } from '../lang/group-expr.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Located<T> {
  value: T;
  pos: SourcePos;
}

export type HostKeyCheck = 'strict' | 'accept-new' | 'off';

interface HostCommon {
  name: string;
  vars: Record<string, Json>;
  /** Run every command as this user through `sudo -n -u USER`. */
  become?: string;
  pos: SourcePos;
  /** Where fields and vars (`vars.NAME`) came from when not all from the host itself: host | host_defaults | group_vars.GROUP. */
  sources?: Record<string, string>;
}

export interface LocalHost extends HostCommon {
  transport: 'local';
  cwd?: string;
  env?: Record<string, string>;
}

export interface SshHost extends HostCommon {
  transport: 'ssh';
  /** As written; ~/.ssh/config (HostName etc.) is applied by the ssh transport at connect time. */
  host: string;
  port?: number;
  user?: string;
  identity_file?: string;
  password_env?: string;
  known_hosts?: string;
  /** Unset: the playbook is silent, and ~/.ssh/config's StrictHostKeyChecking (else strict) applies at connect time. */
  host_key_check?: HostKeyCheck;
  /** Name of another host of the playbook used as a bastion. */
  jump?: string;
  connect_timeout_ms: number;
  keepalive_ms: number;
  keepalive_count: number;
}

export interface DockerHost extends HostCommon {
  transport: 'docker';
  /** Existing container (name or id). */
  container?: string;
  /** Image for an ephemeral container made for the run. */
  image?: string;
  ephemeral: boolean;
  /** unix socket path or tcp URL; undefined means DOCKER_HOST or the default socket. */
  docker_host?: string;
}

export type HostSpec = LocalHost | SshHost | DockerHost;

export type OnFailure = 'continue' | 'abort' | 'ignore';
export type MaxFailures = { count: number } | { percent: number };

export interface StepPolicy {
  on_failure: OnFailure;
  max_failures?: MaxFailures;
  retries: number;
  retry_delay_ms: number;
  /** Per-host operation timeout; undefined means none. */
  timeout_ms?: number;
  become?: string;
  /** Max hosts working on this step at once; undefined means no limit beyond --concurrency. */
  concurrency?: number;
  /** Largest value a call may return, in bytes of JSON; undefined means 1 MiB. */
  max_result?: number;
  /** In check mode: `run` runs the step anyway (vouched read-only), `skip` never runs it; undefined: by the callable's readonly flag. */
  check_mode?: 'run' | 'skip';
}

export interface GroupDef {
  name: string;
  /** A list of names is turned into the expression `a | b | c` with the same positions. */
  expr: Located<string>;
  /** For list groups, each member with its position (for unknown-name errors). */
  members?: Array<Located<string>>;
  /** The expression, parsed once by validation; undefined when it does not parse (a problem was reported). */
  parsed?: GroupExpr;
  pos: SourcePos;
}

/** A step's `on:` as written, and parsed once (undefined when it does not parse: reported). */
export interface OnExpr extends Located<string> {
  expr?: GroupExpr;
}

export interface CallableRef {
  name: string;
  /** Absolute path of the module. */
  module: string;
  exportName: string;
  pos: SourcePos;
  /** The module's `readonly` export (read at validation time); false when absent. */
  readonly?: boolean;
}

/** Where a secret's value is read when a run starts (docs/language.md#secrets); `file` is absolute. */
export type SecretSource = { env: string } | { file: string } | { command: string[] };

export type Strategy = 'linear' | 'free';
export type SerialSpec = Array<{ count: number } | { percent: number }>;
