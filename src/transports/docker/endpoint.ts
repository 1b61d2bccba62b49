/**
 * Where the Docker engine is: the host's `docker_host`, else DOCKER_HOST, else the default
 * socket. Turned into dockerode options plus a canonical URL used in messages and as the key
 * for once-per-engine work (reaping stale ephemeral containers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerOptions } from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type DockerEndpoint =
  { kind: 'unix'; socketPath: string; url: string } | { kind: 'tcp'; host: string; port: number; tls: boolean; url: string };

export type EndpointParse = { ok: true; endpoint: DockerEndpoint } | { ok: false; message: string };

/** `/path`, `unix:///path`, `tcp://host:port`; anything else is refused with a reason. */
export function parseDockerEndpoint(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): EndpointParse {
  const raw = configured ?? (env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '' ? env.DOCKER_HOST : undefined);
  if (raw === undefined) return unix(DEFAULT_DOCKER_SOCKET);
  if (raw.startsWith('/')) return unix(raw);
  if (raw.startsWith('unix://')) {
    const path = raw.slice('unix://'.length);
    if (!path.startsWith('/'))
      return { ok: false, message: `docker_host ${raw}: a unix socket URL needs an absolute path, e.g. unix:///var/run/docker.sock` };
    return unix(path);
  }
  if (raw.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(raw);
    if (m === null) return { ok: false, message: `docker_host ${raw}: expected tcp://HOST:PORT` };
    const tls = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
    const port = m[2] !== undefined ? Number(m[2]) : tls ? 2376 : 2375;
    if (port < 1 || port > 65535) return { ok: false, message: `docker_host ${raw}: port ${port} is out of range` };
    const host = m[1]!.replace(/^\[|\]$/g, '');
    return { ok: true, endpoint: { kind: 'tcp', host, port, tls, url: `tcp://${m[1]}:${port}` } };
  }
  return {
    ok: false,
    message: `docker_host ${raw} is not supported: use a unix socket path (unix:///var/run/docker.sock) or tcp://HOST:PORT`,
  };
}

function unix(socketPath: string): EndpointParse {
  return { ok: true, endpoint: { kind: 'unix', socketPath, url: `unix://${socketPath}` } };
}

/** dockerode constructor options; TLS material comes from DOCKER_CERT_PATH as the docker CLI does. */
export function dockerodeOptions(ep: DockerEndpoint, env: NodeJS.ProcessEnv = process.env): DockerOptions {
  switch (ep.kind) {
    case 'unix':
      return { socketPath: ep.socketPath };
    case 'tcp': {
      if (!ep.tls) return { host: ep.host, port: ep.port, protocol: 'http' };
      const dir = env.DOCKER_CERT_PATH ?? join(env.HOME ?? '', '.docker');
      return {
        host: ep.host,
        port: ep.port,
        protocol: 'https',
        ca: readFileSync(join(dir, 'ca.pem')),
        cert: readFileSync(join(dir, 'cert.pem')),
        key: readFileSync(join(dir, 'key.pem')),
      };
    }
    default: {
      const never: never = ep;
      throw new Error(`unknown docker endpoint ${JSON.stringify(never)}`);
    }
  }
}
