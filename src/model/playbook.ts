/**
 * The validated playbook: what the validate stage hands to the compiler.
 * Every value the compiler may need to blame carries the SourcePos of its YAML node.
 * Durations are milliseconds, modes are numbers, host strings are expanded to objects.
 */
import type { SourcePos } from '../errors.js';

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
  host_key_check: HostKeyCheck;
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
}

interface StepCommon {
  index: number;
  /** `name:` or a generated one such as `call facts.os`. */
  name: string;
  /** Group expression source; default `all`. */
  on: Located<string>;
  register?: Located<string>;
  policy: StepPolicy;
  pos: SourcePos;
}

export interface CallStep extends StepCommon {
  kind: 'call';
  callable: Located<string>;
  args: Record<string, Json>;
  /** Positions of each arg for template errors, keyed by dotted path (`cmd`, `argv.0`). */
  argPos: Record<string, SourcePos>;
}

export interface FilterStep extends StepCommon {
  kind: 'filter';
  callable: Located<string>;
  args: Record<string, Json>;
  argPos: Record<string, SourcePos>;
  exclude: boolean;
  as: Located<string>;
}

export interface PutStep extends StepCommon {
  kind: 'put';
  /** Local path template, relative to the playbook's folder. */
  src: Located<string>;
  /** Remote path template; ends with `/` for a folder; undefined for a fresh temp path. */
  to?: Located<string>;
  mode: number;
}

export interface FetchStep extends StepCommon {
  kind: 'fetch';
  /** Remote path template. */
  src: Located<string>;
  /** Local path template (`{host}`), relative to the playbook's folder; undefined for a temp file. */
  to?: Located<string>;
}

export type Step = CallStep | FilterStep | PutStep | FetchStep;
export type StepKind = Step['kind'];

export interface GroupDef {
  name: string;
  /** A list of names is turned into the expression `a | b | c` with the same positions. */
  expr: Located<string>;
  /** For list groups, each member with its position (for unknown-name errors). */
  members?: Located<string>[];
  pos: SourcePos;
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

export type Strategy = 'linear' | 'free';
export type SerialSpec = Array<{ count: number } | { percent: number }>;

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
  /** In definition order (inventory hosts first, then the playbook's). */
  hosts: HostSpec[];
  groups: GroupDef[];
  callables: CallableRef[];
  strategy: Strategy;
  serial?: SerialSpec;
  steps: Step[];
}
