/**
 * Turns a playbook SshHost (plus ~/.ssh/config where the playbook is silent) into a fully
 * resolved endpoint: address, user, credentials, host key policy and the bastion chain.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { HostError } from '../../errors.js';
import type { HostKeyCheck, SshHost } from '../../model/playbook.js';
import { defaultSshConfigPath, expandPath, lookupSshConfig, parseProxyJump } from './config-file.js';

export interface SshContext {
  /** A warning for the run's output (e.g. host key checking is off). */
  warn(msg: string): void;
  /** Another playbook host by name, for `jump:`. */
  resolveHost(name: string): SshHost | undefined;
  /** ssh config file; default env CHOPSTICKS_SSH_CONFIG, then ~/.ssh/config. */
  sshConfigPath?: string;
  /** Home folder for default keys and known_hosts; default the OS home. */
  homeDir?: string;
  /** Environment for password_env and SSH_AUTH_SOCK; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Endpoint {
  /** Playbook host name, or the ProxyJump item, for messages. */
  label: string;
  hostName: string;
  port: number;
  user: string;
  /** Key files to try, in order; `explicit` ones must exist. */
  identityFiles: Array<{ path: string; explicit: boolean }>;
  passwordEnv?: string;
  /** known_hosts files read, in order; accept-new writes to the first. */
  knownHostsFiles: string[];
  hostKeyCheck: HostKeyCheck;
  connectTimeoutMs: number;
  keepaliveMs: number;
  keepaliveCount: number;
  /** The bastion this endpoint is reached through (itself maybe behind another). */
  via?: Endpoint;
}

export function endpointAddress(e: Endpoint): string {
  return `${e.user}@${e.hostName}:${e.port}`;
}

/** Identity of a connection, for sharing bastions: same key, same connection. */
export function endpointKey(e: Endpoint): string {
  const own = `${endpointAddress(e)}#${e.identityFiles.map((i) => i.path).join(',')}#${e.passwordEnv ?? ''}#${e.knownHostsFiles.join(',')}#${e.hostKeyCheck}`;
  return e.via ? `${endpointKey(e.via)} > ${own}` : own;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** What a host's settings give its ProxyJump hops too; unset host key settings are each hop's ssh config's. */
interface Inherited {
  /** Set by the playbook (known_hosts), else the ssh config's UserKnownHostsFile or ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  /** Set by the playbook (host_key_check), else the ssh config's StrictHostKeyChecking or strict. */
  hostKeyCheck?: HostKeyCheck;
  connectTimeoutMs: number;
  keepaliveMs: number;
  keepaliveCount: number;
}

function build(
  label: string,
  given: { host: string; port?: number; user?: string; identity_file?: string; password_env?: string },
  policy: Inherited,
  ctx: SshContext,
  depth: number,
): { endpoint: Omit<Endpoint, 'via'>; proxyJump?: string } {
  const home = ctx.homeDir ?? homedir();
  const cfg = lookupSshConfig(given.host, defaultSshConfigPath(ctx.sshConfigPath), home);
  const hostName = cfg.hostName ? cfg.hostName.replace(/%h/g, given.host) : given.host;
  const user = given.user ?? cfg.user ?? userInfo().username;
  const port = given.port ?? cfg.port ?? 22;
  const tokens = { host: hostName, user, home };
  let identityFiles: Endpoint['identityFiles'];
  if (given.identity_file) identityFiles = [{ path: resolve(expandPath(given.identity_file, tokens)), explicit: true }];
  else if (cfg.identityFiles.length > 0)
    identityFiles = cfg.identityFiles.map((p) => ({ path: resolve(expandPath(p, tokens)), explicit: false }));
  else identityFiles = DEFAULT_KEYS.map((k) => ({ path: join(home, '.ssh', k), explicit: false })).filter((i) => existsSync(i.path));
  if (depth > 8) throw new HostError('unreachable', `${label}: more than 8 jump hosts (a ProxyJump/jump loop?).`);
  const knownHostsFiles =
    policy.knownHostsFiles ??
    (cfg.knownHostsFiles.length > 0 ? cfg.knownHostsFiles.map((p) => resolve(expandPath(p, tokens))) : [join(home, '.ssh', 'known_hosts')]);
  return {
    endpoint: {
      label,
      hostName,
      port,
      user,
      identityFiles,
      passwordEnv: given.password_env,
      ...policy,
      knownHostsFiles,
      hostKeyCheck: policy.hostKeyCheck ?? cfg.hostKeyCheck ?? 'strict',
    },
    proxyJump: cfg.proxyJump,
  };
}

/** ProxyJump `a,b`: b is reached through a; a through its own ProxyJump, if any. */
function viaProxyJump(text: string, policy: Inherited, ctx: SshContext, depth: number): Endpoint | undefined {
  let via: Endpoint | undefined;
  for (const spec of parseProxyJump(text)) {
    const b = build(spec.host, { host: spec.host, port: spec.port, user: spec.user }, policy, ctx, depth + 1);
    const first = via === undefined && b.proxyJump ? viaProxyJump(b.proxyJump, policy, ctx, depth + 1) : via;
    via = { ...b.endpoint, via: first };
  }
  return via;
}

/** Resolve `host` into an Endpoint; `seen` guards against `jump:` cycles. */
export function resolveEndpoint(host: SshHost, ctx: SshContext, seen: string[] = [], depth = 0): Endpoint {
  if (seen.includes(host.name)) {
    throw new HostError('unreachable', `${seen[0]}: jump hosts form a loop: ${[...seen, host.name].join(' -> ')}.`);
  }
  const home = ctx.homeDir ?? homedir();
  const policy: Inherited = {
    ...(host.known_hosts
      ? { knownHostsFiles: [resolve(expandPath(host.known_hosts, { host: host.host, user: host.user ?? '', home }))] }
      : {}),
    ...(host.host_key_check ? { hostKeyCheck: host.host_key_check } : {}),
    connectTimeoutMs: host.connect_timeout_ms,
    keepaliveMs: host.keepalive_ms,
    keepaliveCount: host.keepalive_count,
  };
  const b = build(host.name, host, policy, ctx, depth);
  let via: Endpoint | undefined;
  if (host.jump) {
    const bastion = ctx.resolveHost(host.jump);
    if (!bastion) {
      throw new HostError('unreachable', `${host.name}: jump host '${host.jump}' is not an ssh host of this playbook.`);
    }
    via = resolveEndpoint(bastion, ctx, [...seen, host.name], depth + 1);
  } else if (b.proxyJump) {
    via = viaProxyJump(b.proxyJump, policy, ctx, depth);
  }
  return { ...b.endpoint, via };
}
