/**
 * Host definitions (string or object, docs/language.md#hosts) → HostSpec with defaults filled.
 * Only values that passed the schema reach here, but every access stays defensive so one
 * broken host never hides the problems of the others.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { parseDuration } from '../lang/durations.js';
import type { HostKeyCheck, HostSpec, Json } from '../model/playbook.js';

export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** host_key_check has no default here: left unset, ~/.ssh/config may set it (transports/ssh/endpoint.ts). */
export const SSH_DEFAULTS = {
  connect_timeout_ms: 10_000,
  keepalive_ms: 15_000,
  keepalive_count: 3,
};

/** Problem words for a bad host/group name, or undefined when it is fine. */
export function badNameReason(name: string): string | undefined {
  if (name === '.' || name === '..') return `'${name}' cannot be a name: it would be a folder in local paths`;
  if (!HOST_NAME_RE.test(name)) {
    return `'${name}' is not a valid name: start with a letter or digit, then letters, digits, '.', '_' or '-' (at most 253)`;
  }
  return undefined;
}

export type Blame = (sub: ReadonlyArray<string | number>, which?: 'key' | 'value') => SourcePos;

const SSH_URL = /^ssh:\/\/(?:([^@/\s:]+)@)?(\[[0-9A-Fa-f:.]+\]|[^:/@\s[\]]+)(?::(\d{1,5}))?\/?$/;
const BARE_HOST = /^(?:([^@/\s:]+)@)?([A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/;

function sshFrom(name: string, vars: Record<string, Json>, pos: SourcePos, host: string, user?: string, port?: string): HostSpec {
  return {
    transport: 'ssh',
    name,
    vars,
    pos,
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined ? { port: Number(port) } : {}),
    ...SSH_DEFAULTS,
  };
}

export function buildHost(name: string, raw: unknown, pos: SourcePos, blame: Blame, problems: PlaybookProblem[]): HostSpec | undefined {
  if (typeof raw === 'string') return hostFromString(name, raw, pos, blame, problems);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const vars = isObject(o.vars) ? (o.vars as Record<string, Json>) : {};
  const become = typeof o.become === 'string' ? { become: o.become } : {};
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? o[k] : undefined);
  // Paths in a host definition are relative to the file that defines it (playbook or inventory),
  // as `put` sources are; `~/` is left for the transport to expand.
  const path = (k: string): string | undefined => {
    const v = str(k);
    if (v === undefined || isAbsolute(v) || v === '~' || v.startsWith('~/')) return v;
    return resolve(dirname(pos.file), v);
  };
  const dur = (k: string, dflt: number): number => {
    const v = o[k];
    if (typeof v !== 'string' && typeof v !== 'number') return dflt;
    return parseDuration(v) ?? dflt;
  };
  switch (o.transport) {
    case 'local': {
      const env = isObject(o.env) ? (o.env as Record<string, string>) : undefined;
      return { transport: 'local', name, vars, pos, ...become, ...opt('cwd', path('cwd')), ...(env ? { env } : {}) };
    }
    case 'ssh': {
      const port = typeof o.port === 'number' ? o.port : undefined;
      const connectTimeout = dur('connect_timeout', SSH_DEFAULTS.connect_timeout_ms);
      if (connectTimeout === 0)
        problems.push({
          code: 'schema',
          message: `connect_timeout: 0 would wait for ever on a host that does not answer; give a duration such as "10s" (the default)`,
          pos: blame(['connect_timeout']),
        });
      return {
        transport: 'ssh',
        name,
        vars,
        pos,
        ...become,
        host: str('host') ?? name,
        ...(port !== undefined ? { port } : {}),
        ...opt('user', str('user')),
        ...opt('identity_file', path('identity_file')),
        ...opt('password_env', str('password_env')),
        ...opt('known_hosts', path('known_hosts')),
        ...opt('jump', str('jump')),
        ...(str('host_key_check') !== undefined ? { host_key_check: str('host_key_check') as HostKeyCheck } : {}),
        connect_timeout_ms: connectTimeout,
        keepalive_ms: dur('keepalive', SSH_DEFAULTS.keepalive_ms),
        keepalive_count: SSH_DEFAULTS.keepalive_count,
      };
    }
    case 'docker': {
      const container = str('container');
      const image = str('image');
      if (container !== undefined && image !== undefined) {
        problems.push({
          code: 'schema',
          message: `docker host '${name}' has both container and image; use container for an existing one, or image with ephemeral: true`,
          pos: blame(['image'], 'key'),
        });
      }
      if (container !== undefined && o.ephemeral === true) {
        problems.push({
          code: 'schema',
          message: `docker host '${name}': ephemeral: true needs image (a container made for the run), not container`,
          pos: blame(['ephemeral'], 'key'),
        });
      }
      if (image !== undefined && container === undefined && o.ephemeral !== true) {
        // Spelled out so that a reader of the playbook sees the container will be removed.
        problems.push({
          code: 'schema',
          message:
            o.ephemeral === false
              ? `docker host '${name}': an image host is always a container made for the run; set ephemeral: true or use container`
              : `docker host '${name}': image makes a container for the run, which needs ephemeral: true; add ephemeral: true (or use container: for an existing one)`,
          pos: o.ephemeral === false ? blame(['ephemeral'], 'value') : blame(['image'], 'key'),
        });
      }
      if (image === undefined && container === undefined && o.ephemeral === true) {
        problems.push({
          code: 'schema',
          message: `docker host '${name}': ephemeral: true needs image, the image to make the container from`,
          pos: blame(['ephemeral'], 'key'),
        });
      }
      return {
        transport: 'docker',
        name,
        vars,
        pos,
        ...become,
        // Neither given: the container is named like the host, as with docker://NAME.
        ...(image === undefined ? { container: container ?? name } : { image }),
        ephemeral: image !== undefined,
        ...opt('docker_host', str('docker_host')),
      };
    }
    default:
      return undefined;
  }
}

function hostFromString(name: string, raw: string, pos: SourcePos, blame: Blame, problems: PlaybookProblem[]): HostSpec | undefined {
  const s = raw.trim();
  if (s === 'local') return { transport: 'local', name, vars: {}, pos };
  if (s.startsWith('docker://')) {
    const container = s.slice('docker://'.length).replace(/\/$/, '');
    if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(container)) {
      return { transport: 'docker', name, vars: {}, pos, container, ephemeral: false };
    }
  } else if (/^(?:ssh:\/\/)?[^@/\s:]*:[^@/\s]*@/.test(s)) {
    // Not echoed: the address holds a password.
    problems.push({
      code: 'schema',
      message: `host '${name}': the address holds a password (user:password@); a playbook never holds one: put it in an environment variable and name that with password_env, or use a key`,
      pos: blame([], 'value'),
    });
    return undefined;
  } else if (s.startsWith('ssh://')) {
    const m = SSH_URL.exec(s);
    if (m && (m[3] === undefined || (Number(m[3]) >= 1 && Number(m[3]) <= 65535))) {
      return sshFrom(name, {}, pos, m[2]!, m[1], m[3]);
    }
  } else if (!s.includes('://')) {
    const m = BARE_HOST.exec(s);
    if (m && (m[3] === undefined || (Number(m[3]) >= 1 && Number(m[3]) <= 65535))) {
      return sshFrom(name, {}, pos, m[2]!, m[1], m[3]);
    }
  }
  problems.push({
    code: 'schema',
    message: `host '${name}': '${raw}' is not a host address; write local, ssh://[user@]host[:port], docker://container or a bare hostname`,
    pos: blame([], 'value'),
  });
  return undefined;
}

function opt<K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> {
  return (v === undefined ? {} : { [k]: v }) as Partial<Record<K, string>>;
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Host specs compared without their positions (identical definitions in two files are fine). */
export function sameHost(a: HostSpec, b: HostSpec): boolean {
  return stableJson({ ...a, pos: null }) === stableJson({ ...b, pos: null });
}

export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : val,
  );
}
