/**
 * The transport contract. A transport knows how to reach one host and start processes
 * on it with raw byte streams; everything else (the long-lived shell session, put/fetch
 * with sha1 and atomic rename, callables) is built once on top of this, in
 * `shell-session.ts` and `transfer.ts`, and shared by local, ssh and docker alike.
 */
import type { Readable, Writable } from 'node:stream';

export interface SpawnOptions {
  /** Abort kills the process (best effort) and rejects `exit` with HostError('cancelled'). */
  signal?: AbortSignal;
}

/** A process started on the host. stdin/stdout/stderr are raw bytes. */
export interface RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Resolves with the exit code (or null with a signal name) when the process ends and its
   * streams are drained. Rejects with a HostError (`connection_lost`, ...) when the
   * transport dies underneath it.
   */
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  /** Ask the process to stop. For ssh/docker this may be best effort; see shell-session. */
  kill(): void;
}

export interface Transport {
  readonly hostName: string;
  /** Human-readable address for messages, e.g. `deploy@10.0.0.11:22`. */
  readonly address: string;
  /**
   * The user every process of this transport already runs as, when the transport itself
   * switches user (docker exec's User, from the host's `become`): becoming that user then
   * needs no sudo. Undefined when processes run as whoever the transport logs in as.
   */
  readonly execUser?: string | undefined;
  /**
   * Set when several hosts of a run can be this same machine, sharing one filesystem (`local`
   * hosts are all the controller): read-modify-write edits of one path are then taken one at a
   * time across them (docs/language.md#line).
   */
  readonly sharedMachine?: string;
  /**
   * How many ancestors of a process this transport starts are the transport's own (ssh: the
   * login shell and sshd's session process; local: the controller). The session's watcher on the
   * host stops the session's commands once one of them is gone (session-scripts.ts). 0 (the
   * default): none is visible from the host (docker exec), so the watcher relays stdin instead.
   */
  readonly sessionAncestors?: number;
  /**
   * Connect (ssh handshake, docker engine + container checks, nothing for local).
   * Rejects with a HostError of kind unreachable, timeout, auth_failed, hostkey_*.
   * Idempotent.
   */
  connect(signal?: AbortSignal): Promise<void>;
  /**
   * Start `argv` on the host. argv is never interpreted by a shell on the way: ssh
   * quotes it for the remote login shell, docker and local pass it as an array.
   */
  spawn(argv: string[], opts?: SpawnOptions): RemoteProcess;
  /** Close connections and remove what the transport made (ephemeral containers). Idempotent. */
  close(): Promise<void>;
  /** Called when the connection breaks unexpectedly after connect; set by the session layer. */
  onLost?: (err: Error) => void;
}
