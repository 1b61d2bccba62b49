import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SshHost } from '../../src/model/playbook.js';
import { lookupSshConfig } from '../../src/transports/ssh/config-file.js';
import { resolveEndpoint, type SshContext } from '../../src/transports/ssh/endpoint.js';
import { checkHostKey, knownHostsEntriesFor } from '../../src/transports/ssh/known-hosts.js';

/** A fake home with `files` (paths relative to it) written; returns the home. */
function home(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chopsticks-sshcfg-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('ssh config Include', () => {
  it('reads included files in place: globs, several paths, ~ and paths relative to ~/.ssh', () => {
    const h = home({
      '.ssh/config': 'Include conf.d/*.conf ~/extra/one\nHost *\n  User fallback\n  Port 2200\n',
      '.ssh/conf.d/b.conf': 'Host web\n  HostName 10.0.0.2\n',
      '.ssh/conf.d/a.conf': 'Host web\n  HostName 10.0.0.1\n  Port 2201\n',
      '.ssh/conf.d/.hidden.conf': 'Host web\n  User hidden\n',
      '.ssh/conf.d/skip.txt': 'Host web\n  User skipped\n',
      'extra/one': 'Host db\n  HostName 10.0.1.1\n  IdentityFile ~/.ssh/db_key\n',
    });
    const cfg = join(h, '.ssh', 'config');
    // a.conf before b.conf (sorted), and both before the top file's later `Host *`: first value wins.
    expect(lookupSshConfig('web', cfg, h)).toEqual({
      hostName: '10.0.0.1',
      port: 2201,
      user: 'fallback',
      identityFiles: [],
      knownHostsFiles: [],
    });
    expect(lookupSshConfig('db', cfg, h)).toMatchObject({
      hostName: '10.0.1.1',
      user: 'fallback',
      port: 2200,
      identityFiles: ['~/.ssh/db_key'],
    });
  });

  it('an Include inside a Host block applies only to that block, which resumes after the file', () => {
    const h = home({
      '.ssh/config': 'Host prod-*\n  Include prod.conf\n  User deploy\nHost *\n  Port 2222\n',
      '.ssh/prod.conf': 'IdentityFile ~/.ssh/prod_key\nHost prod-db\n  HostName 10.9.0.1\n',
    });
    const cfg = join(h, '.ssh', 'config');
    expect(lookupSshConfig('prod-db', cfg, h)).toEqual({
      hostName: '10.9.0.1',
      user: 'deploy',
      port: 2222,
      identityFiles: ['~/.ssh/prod_key'],
      knownHostsFiles: [],
    });
    // Outside the block, nothing of the included file applies, its own Host lines included.
    const h2 = home({
      '.ssh/config': 'Host prod-*\n  Include prod.conf\nHost *\n  Port 2222\n',
      '.ssh/prod.conf': 'Host *\n  HostName 10.9.0.1\n',
    });
    expect(lookupSshConfig('test-db', join(h2, '.ssh', 'config'), h2)).toEqual({ port: 2222, identityFiles: [], knownHostsFiles: [] });
  });

  it('a missing or unmatched Include is no error; an Include loop is, past 16 levels', () => {
    const h = home({ '.ssh/config': 'Include nothing.conf none/*\nHost a\n  Port 2\n' });
    expect(lookupSshConfig('a', join(h, '.ssh', 'config'), h).port).toBe(2);
    const loop = home({ '.ssh/config': 'Include config\n' });
    expect(() => lookupSshConfig('a', join(loop, '.ssh', 'config'), loop)).toThrow(/Include nested more than 16 deep/);
  });

  it('sees an edit of an included file, not only of the top one', () => {
    const h = home({ '.ssh/config': 'Include inc\n', '.ssh/inc': 'Host a\n  Port 2\n' });
    const cfg = join(h, '.ssh', 'config');
    expect(lookupSshConfig('a', cfg, h).port).toBe(2);
    writeFileSync(join(h, '.ssh', 'inc'), 'Host a\n  Port 3\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(h, '.ssh', 'inc'), later, later);
    expect(lookupSshConfig('a', cfg, h).port).toBe(3);
  });

  it('Match final: a second pass with the host set to HostName', () => {
    const h = home({ '.ssh/config': 'Host a\n  HostName real.example\nMatch final host real.example\n  User finaluser\n' });
    expect(lookupSshConfig('a', join(h, '.ssh', 'config'), h)).toMatchObject({ hostName: 'real.example', user: 'finaluser' });
  });
});

describe('ssh config host key settings', () => {
  const ssh = (over: Partial<SshHost> = {}): SshHost => ({
    transport: 'ssh',
    name: 'web',
    vars: {},
    pos: { file: 'p.yaml', line: 1, col: 1 },
    host: 'web',
    connect_timeout_ms: 10_000,
    keepalive_ms: 15_000,
    keepalive_count: 3,
    ...over,
  });
  const ctxFor = (h: string, hosts: Record<string, SshHost> = {}): SshContext => ({
    warn: () => undefined,
    resolveHost: (n) => hosts[n],
    sshConfigPath: join(h, '.ssh', 'config'),
    homeDir: h,
  });

  it('UserKnownHostsFile (several, ~) and StrictHostKeyChecking apply where the playbook is silent', () => {
    const h = home({
      '.ssh/config':
        'Host web\n  UserKnownHostsFile ~/kh/first %h_kh\n  StrictHostKeyChecking accept-new\n' +
        'Host gw\n  StrictHostKeyChecking no\nHost db\n  StrictHostKeyChecking yes\n  ProxyJump gw\n',
    });
    const e = resolveEndpoint(ssh(), ctxFor(h));
    expect(e.knownHostsFiles).toEqual([join(h, 'kh', 'first'), resolve('web_kh')]);
    expect(e.hostKeyCheck).toBe('accept-new');
    // The playbook's own settings win.
    const own = resolveEndpoint(ssh({ known_hosts: '/etc/kh', host_key_check: 'strict' }), ctxFor(h));
    expect(own.knownHostsFiles).toEqual(['/etc/kh']);
    expect(own.hostKeyCheck).toBe('strict');
    // Nothing anywhere: ~/.ssh/known_hosts and strict, as before. A ProxyJump hop reads its own Host block.
    const db = resolveEndpoint(ssh({ name: 'db', host: 'db' }), ctxFor(h));
    expect(db.knownHostsFiles).toEqual([join(h, '.ssh', 'known_hosts')]);
    expect(db.hostKeyCheck).toBe('strict');
    expect(db.via?.hostKeyCheck).toBe('off');
  });

  it('maps every StrictHostKeyChecking value; ask refuses (nothing prompts)', () => {
    for (const [v, want] of [
      ['yes', 'strict'],
      ['ask', 'strict'],
      ['accept-new', 'accept-new'],
      ['no', 'off'],
      ['off', 'off'],
      ['Accept-New', 'accept-new'],
    ] as const) {
      const h = home({ '.ssh/config': `Host web\n  StrictHostKeyChecking ${v}\n` });
      expect(lookupSshConfig('web', join(h, '.ssh', 'config'), h).hostKeyCheck).toBe(want);
    }
  });

  it('a key in the second known_hosts file is known; a changed one names the file it is in', async () => {
    const h = home({});
    const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIIlRoGydK8lEpBJD1thgTc5Z0CQ9LnEI49VmnMuCDwWy', 'base64');
    const other = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIKlRoGydK8lEpBJD1thgTc5Z0CQ9LnEI49VmnMuCDwWy', 'base64');
    writeFileSync(join(h, 'a'), '# nothing\n');
    writeFileSync(join(h, 'b'), `x ssh-ed25519 AAAA\n[web]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    const entries = await knownHostsEntriesFor([join(h, 'a'), join(h, 'b')], '[web]:2222');
    expect(checkHostKey(entries, '[web]:2222', key).kind).toBe('known');
    expect(checkHostKey(entries, '[web]:2222', other)).toMatchObject({ kind: 'mismatch', expected: [{ line: 2, file: join(h, 'b') }] });
  });
});
