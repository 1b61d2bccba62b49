/**
 * What a step sees of a host: one long-lived session per host for the whole run.
 * Implemented once (shell-session.ts + transfer.ts) over any Transport.
 */
import type { Json } from '../model/playbook.js';

export interface RunOptions {
  /** Bytes fed to the command's stdin (exactly; no newline added). */
  stdin?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Run as this user through `sudo -n -u USER --`. */
  become?: string;
  /** Stop the command (on the host) and fail with kind `timeout` after this long. */
  timeoutMs?: number;
  /** Stop the command and fail with kind `invalid_result` when stdout passes this many bytes. */
  maxStdout?: number;
  signal?: AbortSignal;
  /** Remote stderr as it arrives (already decoded), for echoing with the host name in front. */
  onStderr?: (text: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  rc: number;
}

export interface TransferOptions {
  /**
   * How messages name the transfer (default `put LOCAL → REMOTE`, `fetch REMOTE`): a put of a
   * controller temp file (a rendered template, a line edit) names what the user wrote instead.
   */
  what?: string;
  become?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes moved so far, for progress output. */
  onProgress?: (bytes: number, total: number | null) => void;
}

export interface PutValue {
  remote_path: string;
  size: number;
  sha1sum: string;
  changed: boolean;
}

export interface FetchValue {
  local_path: string;
  remote_path: string;
  size: number;
  sha1sum: string;
}

export interface RemoteFileInfo {
  exists: boolean;
  type: 'file' | 'directory' | 'symlink' | 'other' | null;
  size: number | null;
  /** Octal string such as "0644", or null when missing. */
  mode: string | null;
  sha1sum: string | null;
}

export interface HostSession {
  readonly name: string;
  /** The transport's `sharedMachine`: hosts with the same value share one filesystem. */
  readonly sharedMachine?: string | undefined;
  /** Run argv (never through a shell) in the host's long-lived shell. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** Run a shell command line (`sh -c`), for the `shell` and `test` callables only. */
  shell(cmd: string, opts?: RunOptions): Promise<RunResult>;
  /** Streamed upload: temp file beside the destination, sha1 checked, rename. `remotePath` ending in `/` is a folder; undefined makes a fresh temp path. */
  put(localPath: string, remotePath: string | undefined, mode: number, opts?: TransferOptions): Promise<PutValue>;
  /** What put would do, without writing: `changed` says whether the remote differs. */
  putCheck(localPath: string, remotePath: string | undefined, mode: number, opts?: TransferOptions): Promise<PutValue>;
  /** Streamed download into localPath (temp + rename); undefined makes a local temp file. */
  fetch(remotePath: string, localPath: string | undefined, opts?: TransferOptions): Promise<FetchValue>;
  /** `follow`: describe what a symlink points to (as fetch reads it), not the link itself. */
  stat(remotePath: string, opts?: { become?: string; signal?: AbortSignal; withSha1?: boolean; follow?: boolean }): Promise<RemoteFileInfo>;
  /** The session died under a step (connection cut, container stopped, shell killed): it will not answer again. */
  readonly lost: boolean;
  /** Close the shell and the transport; removes remote temp files still known. */
  close(): Promise<void>;
}

/** What a custom callable module's function receives as its first argument. */
export interface HostHandle {
  readonly name: string;
  readonly vars: Readonly<Record<string, Json>>;
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  shell(cmd: string, opts?: RunOptions): Promise<RunResult>;
  put(localPath: string, remotePath?: string, opts?: { mode?: number }): Promise<PutValue>;
  fetch(remotePath: string, localPath?: string): Promise<FetchValue>;
  /** Call another callable (built-in or custom) on this host. */
  call(name: string, args?: Record<string, Json>): Promise<Json>;
}
