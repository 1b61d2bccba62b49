/**
 * `~/.ssh/config`: Host aliases, HostName, User, Port, IdentityFile, ProxyJump. Applied
 * only where the playbook is silent. `Match exec` is never evaluated (no shell runs).
 */
import SSHConfig from 'ssh-config';
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface ConfigSettings {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

const cache = new Map<string, { mtimeMs: number; config: SSHConfig }>();

function load(path: string): SSHConfig | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = cache.get(path);
  if (hit?.mtimeMs === mtimeMs) return hit.config;
  const config = SSHConfig.parse(readFileSync(path, 'utf8'));
  cache.set(path, { mtimeMs, config });
  return config;
}

export function defaultSshConfigPath(override?: string): string {
  return override ?? process.env.CHOPSTICKS_SSH_CONFIG ?? join(homedir(), '.ssh', 'config');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What the ssh config says about `alias`, or nothing when there is no config file. */
export function lookupSshConfig(alias: string, configPath: string): ConfigSettings {
  const config = load(configPath);
  if (!config) return { identityFiles: [] };
  const c = config.compute(alias, { ignoreCase: true, matchExec: false });
  const port = first(c.port);
  const proxyJump = first(c.proxyjump);
  const ids = c.identityfile;
  return {
    hostName: first(c.hostname),
    user: first(c.user),
    port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
    identityFiles: ids === undefined ? [] : Array.isArray(ids) ? ids : [ids],
    // `none` turns ProxyJump off, as in OpenSSH.
    proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : undefined,
  };
}

/** OpenSSH's minimal path tokens: `~`, `%h` host, `%r` remote user, `%u` local user, `%%`. */
export function expandPath(path: string, t: { host: string; user: string; home?: string }): string {
  const home = t.home ?? homedir();
  const withHome = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
  return withHome.replace(/%([%hru])/g, (_, c: string) => {
    switch (c) {
      case 'h':
        return t.host;
      case 'r':
        return t.user;
      case 'u':
        return userInfo().username;
      default:
        return '%';
    }
  });
}

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** `[user@]host[:port]` items separated by commas; `ssh://` URIs too. */
export function parseProxyJump(text: string): JumpSpec[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      let rest = item.replace(/^ssh:\/\//, '');
      let user: string | undefined;
      const at = rest.lastIndexOf('@');
      if (at >= 0) {
        user = rest.slice(0, at);
        rest = rest.slice(at + 1);
      }
      let host = rest;
      let port: number | undefined;
      const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
      if (bracket) {
        host = bracket[1]!;
        port = bracket[2] ? Number(bracket[2]) : undefined;
      } else {
        const m = /^([^:]+):(\d+)$/.exec(rest);
        if (m) {
          host = m[1]!;
          port = Number(m[2]);
        }
      }
      return { user, host, port };
    });
}
