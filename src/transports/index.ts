/**
 * Transport factory. ssh2 and dockerode are loaded only when a playbook has such a host,
 * so local-only runs start fast.
 */
import { randomUUID } from 'node:crypto';
import type { HostSpec, SshHost } from '../model/playbook.js';
import type { DockerContext } from './docker/index.js';
import { createLocalTransport } from './local/index.js';
import type { HostSession } from './session.js';
import { openSession } from './shell-session.js';
import type { SshContext } from './ssh/index.js';
import type { Transport } from './types.js';

export { LocalTransport } from './local/index.js';
export { openSession, ShellSession, type SessionHost, type SessionOptions } from './shell-session.js';
export { shJoin, shQuote } from '../lang/shell-quote.js';
export { TEMP_PREFIX } from './transfer.js';

/** What ssh and docker transports need from the run (both share `env`). */
export type TransportContext = SshContext & DockerContext;

export async function createTransport(host: HostSpec, ctx: TransportContext): Promise<Transport> {
  switch (host.transport) {
    case 'local':
      return createLocalTransport(host);
    case 'ssh': {
      const { createSshTransport } = await import('./ssh/index.js');
      return createSshTransport(host, ctx);
    }
    case 'docker': {
      const { createDockerTransport } = await import('./docker/index.js');
      return createDockerTransport(host, ctx);
    }
    default: {
      const never: never = host;
      throw new Error(`unknown transport ${JSON.stringify((never as HostSpec).transport)}`);
    }
  }
}

export interface OpenHostOptions {
  /** The compiled plan: its hosts resolve ssh `jump:` names. */
  plan?: { hosts: HostSpec[] };
  signal?: AbortSignal;
  warn?: (message: string) => void;
  /** Labels ephemeral docker containers; one per process by default. */
  runId?: string;
  env?: NodeJS.ProcessEnv;
}

const processRunId = randomUUID();

/** Transport + connect + long-lived shell for one host, with the host's `become` as default. */
export async function openHostSession(host: HostSpec, opts: OpenHostOptions = {}): Promise<HostSession> {
  const hosts = opts.plan?.hosts ?? [];
  const ctx: TransportContext = {
    warn: opts.warn ?? (() => {}),
    resolveHost: (name) => hosts.find((h): h is SshHost => h.name === name && h.transport === 'ssh'),
    runId: opts.runId ?? processRunId,
    env: opts.env,
  };
  const transport = await createTransport(host, ctx);
  try {
    return await openSession(
      transport,
      { name: host.name, vars: host.vars },
      {
        signal: opts.signal,
        defaultBecome: host.become,
      },
    );
  } catch (e) {
    await transport.close().catch(() => {});
    throw e;
  }
}
