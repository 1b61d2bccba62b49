/**
 * `~/.ssh/config`: Host aliases, HostName, User, Port, IdentityFile, ProxyJump,
 * UserKnownHostsFile, StrictHostKeyChecking, with the files
 * it Includes (config-walk.ts). Applied only where the playbook is silent. `Match exec` is
 * never evaluated (no shell runs).
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostKeyCheck } from '../../model/playbook.js';
import { computeSshConfig } from './config-walk.js';

export interface ConfigSettings {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  /** UserKnownHostsFile as written (`~` and %-tokens unexpanded); accept-new writes to the first. */
  knownHostsFiles: string[];
  hostKeyCheck?: HostKeyCheck;
}

/**
 * StrictHostKeyChecking → the playbook's host_key_check. `ask` (OpenSSH's default) would
 * prompt, and nothing here ever prompts: it refuses unknown keys, as ssh -o BatchMode=yes does.
 */
const HOST_KEY_CHECK: Record<string, HostKeyCheck> = {
  yes: 'strict',
  true: 'strict',
  ask: 'strict',
  'accept-new': 'accept-new',
  no: 'off',
  off: 'off',
  false: 'off',
};

export function defaultSshConfigPath(override?: string): string {
  return override ?? process.env.CHOPSTICKS_SSH_CONFIG ?? join(homedir(), '.ssh', 'config');
}

/**
 * What the ssh config says about `alias`, or nothing when there is no config file. `home` is
 * where `~` and relative Include paths point (OpenSSH: ~/.ssh).
 */
export function lookupSshConfig(alias: string, configPath: string, home = homedir()): ConfigSettings {
  const c = computeSshConfig(configPath, alias, home);
  if (!c) return { identityFiles: [], knownHostsFiles: [] };
  const first = (k: string): string | undefined => c.get(k)?.[0];
  const port = first('port');
  const proxyJump = first('proxyjump');
  return {
    hostName: first('hostname'),
    user: first('user'),
    port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
    identityFiles: c.get('identityfile') ?? [],
    // `none` (no file at all) is not supported: it leaves the default in place.
    knownHostsFiles: (c.get('userknownhostsfile') ?? []).filter((f) => f.toLowerCase() !== 'none'),
    hostKeyCheck: HOST_KEY_CHECK[first('stricthostkeychecking')?.toLowerCase() ?? ''],
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
