/**
 * One authenticated ssh2 connection to an Endpoint: our own TCP socket (TCP_NODELAY) or a
 * bastion's forwardOut stream, host key check before any credential is sent, auth without
 * prompts, connect_timeout over all of it, and bounded retries of pre-auth resets only.
 */
import ssh2 from 'ssh2';
import type { Client, AuthenticationType, AnyAuthMethod, ClientChannel, NextAuthHandler, ServerHostKeyAlgorithm } from 'ssh2';
import { connect as netConnect, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import { HostError } from '../../errors.js';
import { classifyConnectError, forwardError, isRetryablePreAuth, timeoutError, type ConnectFacts } from './classify.js';
import { endpointAddress, endpointKey, type Endpoint, type SshContext } from './endpoint.js';
import {
  appendKnownHost,
  checkHostKey,
  knownHostsEntriesFor,
  fingerprint,
  hostKeyAlgorithms,
  keyTypeOfBlob,
  knownHostsName,
} from './known-hosts.js';
import { fileCache } from './file-cache.js';
import { Semaphore } from './semaphore.js';

// ssh2 is CommonJS: Node's own ESM loader does not expose `utils` as a named export (vitest's
// loader does, which hid this), so both come from the default export.
const { Client: SshClient, utils } = ssh2;

/** Below sshd's default MaxStartups (10): more unauthenticated connections get dropped. */
export const HANDSHAKES_PER_ENDPOINT = 8;
/**
 * Handshakes this process runs at once, whatever the endpoints. A handshake costs the controller
 * CPU (key exchange, host key, signature): 200 started together on 2 slow cores all finished
 * after 17 s, so every one of them passed its 10 s connect_timeout although no host was slow.
 * Waiting for a slot is not counted against the host's timeout. 16 per CPU, at least 32 (pssh's
 * default), keeps fan-out on fast machines and high-latency links wide.
 */
export const HANDSHAKES_PER_CONTROLLER = Math.max(32, 16 * availableParallelism());
const MAX_PREAUTH_ATTEMPTS = 4;
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * State shared by every ssh transport in the process: handshake slots belong to the remote
 * sshd (its MaxStartups), and a bastion connection is fully named by its endpoint key, so
 * neither depends on which SshContext a transport was made with.
 */
export interface SshShared {
  handshakes: Map<string, Semaphore>;
  controllerHandshakes: Semaphore;
  bastions: Map<string, { conn: Promise<Client>; refs: number; release: () => void }>;
}

const shared: SshShared = { handshakes: new Map(), controllerHandshakes: new Semaphore(HANDSHAKES_PER_CONTROLLER), bastions: new Map() };

export function sharedFor(_ctx: SshContext): SshShared {
  return shared;
}

function handshakeSlot(shared: SshShared, e: Endpoint): Semaphore {
  const key = `${e.hostName}:${e.port}`;
  let s = shared.handshakes.get(key);
  if (!s) {
    s = new Semaphore(HANDSHAKES_PER_ENDPOINT);
    shared.handshakes.set(key, s);
  }
  return s;
}

interface AuthAttempt {
  describe: string;
  method: AuthenticationType;
  make: (username: string) => AnyAuthMethod;
}

/** Identity files, parsed once per version of the file for all hosts that use them. */
const identityFiles = fileCache((data) => utils.parseKey(data));

/** Credentials to try, in order; notes say why a configured one cannot be tried. */
async function planAuth(e: Endpoint, ctx: SshContext): Promise<{ attempts: AuthAttempt[]; notes: string[] }> {
  const env = ctx.env ?? process.env;
  const attempts: AuthAttempt[] = [];
  const notes: string[] = [];
  const keyAttempts: AuthAttempt[] = [];
  for (const id of e.identityFiles) {
    let parsed: ReturnType<typeof utils.parseKey>;
    try {
      parsed = await identityFiles(id.path);
    } catch (err) {
      if (id.explicit)
        notes.push(`identity file ${id.path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    if (parsed instanceof Error) {
      // Never prompt: an encrypted key is only usable through ssh-agent.
      notes.push(
        /encrypt|passphrase/i.test(parsed.message)
          ? `identity file ${id.path} is encrypted and no passphrase can be asked for: load it into ssh-agent (ssh-add)`
          : `identity file ${id.path} is not a usable private key: ${parsed.message}`,
      );
      continue;
    }
    keyAttempts.push({
      describe: `publickey ${id.path}`,
      method: 'publickey',
      // Parsed once (ssh2 takes a parsed key as it is): ssh2 would parse the file again for every connection.
      make: (username) => ({ type: 'publickey', username, key: parsed }),
    });
  }
  const agentSock = env.SSH_AUTH_SOCK;
  const agent: AuthAttempt[] = agentSock
    ? [{ describe: `ssh-agent (${agentSock})`, method: 'publickey', make: (username) => ({ type: 'agent', username, agent: agentSock }) }]
    : [];
  // An explicit identity_file comes first (as `ssh -i`); otherwise the agent, as OpenSSH does.
  if (e.identityFiles.some((i) => i.explicit)) attempts.push(...keyAttempts, ...agent);
  else attempts.push(...agent, ...keyAttempts);
  if (e.passwordEnv !== undefined) {
    const pw = env[e.passwordEnv];
    if (pw === undefined) notes.push(`password_env names ${e.passwordEnv}, which is not set in the environment`);
    else
      attempts.push({
        describe: `password (from $${e.passwordEnv})`,
        method: 'password',
        make: (username) => ({ type: 'password', username, password: pw }),
      });
  }
  return { attempts, notes };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function openSocket(e: Endpoint, via: Client | undefined, facts: ConnectFacts): Promise<Duplex> {
  if (via) {
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, e.hostName, e.port, (err: Error | undefined, stream: ClientChannel) => {
        if (err) reject(forwardError(err, facts));
        else resolve(stream);
      });
    });
  }
  return new Promise((resolve, reject) => {
    const sock: Socket = netConnect({ host: e.hostName, port: e.port });
    // ssh2 leaves Nagle on: 54 ms instead of 13 ms per sequential command, measured on loopback.
    sock.setNoDelay(true);
    const onErr = (err: Error): void => {
      sock.destroy();
      reject(classifyConnectError(err, facts));
    };
    sock.once('error', onErr);
    sock.once('connect', () => {
      sock.off('error', onErr);
      resolve(sock);
    });
  });
}

interface Attempt {
  client: Client;
  facts: ConnectFacts;
}

/** One try: socket, handshake, host key, auth. Rejects with a HostError or a raw retryable error. */
async function attemptOnce(
  e: Endpoint,
  via: Client | undefined,
  ctx: SshContext,
  facts: ConnectFacts,
  deadline: { onExpire: (fn: () => void) => void },
): Promise<Attempt> {
  const khName = facts.knownHostsName;
  const entries = await knownHostsEntriesFor(e.knownHostsFiles, khName);
  const { attempts, notes } = await planAuth(e, ctx);
  facts.authNotes = notes;
  facts.authTried = [];
  // Even with no credential to offer, connect: a closed port, a timeout or a wrong host key is
  // what the user needs to hear first, and authentication then fails with the notes.

  let sock: Duplex | undefined;
  const client = new SshClient();
  return new Promise<Attempt>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.end();
      sock?.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    deadline.onExpire(() => fail(timeoutError(facts)));
    openSocket(e, via, facts).then((s) => {
      sock = s;
      if (settled) {
        s.destroy();
        return;
      }
      let next = 0;
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        resolve({ client, facts });
      });
      client.on('error', (err: Error & { level?: string }) => {
        fail(isRetryablePreAuth(err) && !facts.hostKey ? err : classifyConnectError(err, facts));
      });
      client.on('close', () => {
        fail(
          facts.hostKey
            ? classifyConnectError(new Error('connection closed before authentication'), facts)
            : Object.assign(new Error('connection closed before authentication'), { level: 'protocol' }),
        );
      });
      client.connect({
        sock: s,
        username: e.user,
        readyTimeout: 0, // our own deadline covers socket + handshake + auth
        keepaliveInterval: e.keepaliveMs,
        keepaliveCountMax: e.keepaliveCount,
        algorithms: { serverHostKey: hostKeyAlgorithms(entries, khName, DEFAULT_HOST_KEY_ALGOS) as ServerHostKeyAlgorithm[] },
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          const verdict = checkHostKey(entries, khName, key);
          facts.hostKey = { verdict, fingerprint: fingerprint(key), keyType: keyTypeOfBlob(key) };
          if (verdict.kind === 'known') {
            verify(true);
            return;
          }
          if (verdict.kind === 'mismatch' && e.hostKeyCheck === 'off') {
            // `off` means off (as Ansible's host_key_checking=False): a re-provisioned host still
            // connects, but the user is told every run. Revoked keys stay refused in every mode.
            facts.hostKey.accepted = true;
            ctx.warn(
              `${e.label}: host key checking is off; accepted a CHANGED ${facts.hostKey.keyType} key ${facts.hostKey.fingerprint} for ${khName} (known_hosts has ${verdict.expected.map((x) => x.fingerprint).join(', ')}).`,
            );
            verify(true);
            return;
          }
          if (verdict.kind !== 'unknown') {
            verify(false);
            return;
          }
          switch (e.hostKeyCheck) {
            case 'strict':
              verify(false);
              return;
            case 'off':
              facts.hostKey.verdict = { kind: 'known', line: 0 };
              ctx.warn(
                `${e.label}: host key checking is off; accepted ${facts.hostKey.keyType} ${facts.hostKey.fingerprint} from ${khName} without verification.`,
              );
              verify(true);
              return;
            case 'accept-new':
              appendKnownHost(e.knownHostsFiles[0]!, khName, key).then(
                () => {
                  facts.hostKey!.verdict = { kind: 'known', line: 0 };
                  verify(true);
                },
                (err: unknown) =>
                  fail(
                    new HostError(
                      'hostkey_unknown',
                      `${e.label}: cannot record the new host key of ${khName} in ${e.knownHostsFiles[0]!}: ${err instanceof Error ? err.message : String(err)}.`,
                    ),
                  ),
              );
              return undefined;
          }
        },
        authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, cb: NextAuthHandler) => {
          while (next < attempts.length) {
            const a = attempts[next++]!;
            if (methodsLeft && !methodsLeft.includes(a.method)) continue;
            facts.authTried.push(a.describe);
            cb(a.make(e.user));
            return;
          }
          // ssh2 ends authentication on `false` (its typings omit it).
          (cb as unknown as (v: false) => void)(false);
        },
      });
    }, fail);
  });
}

/**
 * Connect to `e` (through `via` when it is behind a bastion), holding one of the endpoint's
 * handshake slots. Retries, with jitter, only resets that happen before authentication.
 */
export async function connectEndpoint(e: Endpoint, via: Client | undefined, ctx: SshContext, signal?: AbortSignal): Promise<Client> {
  const facts: ConnectFacts = {
    label: e.label,
    address: endpointAddress(e),
    via: e.via ? endpointAddress(e.via) : undefined,
    hostName: e.hostName,
    port: e.port,
    knownHostsFiles: e.knownHostsFiles,
    knownHostsName: knownHostsName(e.hostName, e.port),
    authTried: [],
    authNotes: [],
    timeoutMs: e.connectTimeoutMs,
  };
  const state = sharedFor(ctx);
  const slots = handshakeSlot(state, e);
  const controller = state.controllerHandshakes;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new HostError('cancelled', `${e.label}: connect cancelled.`);
    const releaseEndpoint = await slots.acquire();
    const releaseController = await controller.acquire();
    const release = (): void => {
      releaseController();
      releaseEndpoint();
    };
    const expireFns: Array<() => void> = [];
    const deadline = { onExpire: (fn: () => void) => expireFns.push(fn) };
    const timer = setTimeout(() => {
      for (const fn of expireFns) fn();
    }, e.connectTimeoutMs);
    const onAbort = (): void => {
      for (const fn of expireFns) fn();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { client } = await attemptOnce(e, via, ctx, facts, deadline);
      return client;
    } catch (err) {
      if (signal?.aborted) throw new HostError('cancelled', `${e.label}: connect cancelled.`);
      if (err instanceof HostError) throw err;
      const raw = err as Error & { level?: string };
      if (!isRetryablePreAuth(raw) || attempt >= MAX_PREAUTH_ATTEMPTS) throw classifyConnectError(raw, facts);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      release();
    }
    await sleep(100 * attempt + Math.random() * 200 * attempt);
  }
}

/**
 * A shared connection to a bastion (itself maybe behind another), reference counted so
 * every host behind it uses one connection, closed when the last one lets go.
 */
export async function acquireBastion(e: Endpoint, ctx: SshContext, signal?: AbortSignal): Promise<{ client: Client; release: () => void }> {
  const shared = sharedFor(ctx);
  const key = endpointKey(e);
  let entry = shared.bastions.get(key);
  if (!entry) {
    let outer: { client: Client; release: () => void } | undefined;
    const conn = (async () => {
      outer = e.via ? await acquireBastion(e.via, ctx, signal) : undefined;
      try {
        const c = await connectEndpoint(e, outer?.client, ctx, signal);
        // A dropped bastion must not be handed out again.
        c.once('close', () => {
          if (shared.bastions.get(key) === created) shared.bastions.delete(key);
        });
        return c;
      } catch (err) {
        outer?.release();
        throw err;
      }
    })();
    const created = {
      conn,
      refs: 0,
      release: () => {
        created.refs--;
        if (created.refs > 0) return;
        if (shared.bastions.get(key) === created) shared.bastions.delete(key);
        void conn.then(
          (c) => {
            c.once('close', () => outer?.release());
            c.end();
          },
          () => undefined,
        );
      },
    };
    entry = created;
    shared.bastions.set(key, entry);
    conn.catch(() => {
      if (shared.bastions.get(key) === created) shared.bastions.delete(key);
    });
  }
  entry.refs++;
  const mine = entry;
  try {
    const client = await mine.conn;
    let released = false;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        mine.release();
      },
    };
  } catch (err) {
    mine.refs--;
    throw err;
  }
}
