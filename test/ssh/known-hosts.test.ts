import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  entriesFor,
  fingerprint,
  hostKeyAlgorithms,
  indexKnownHosts,
  keyTypeOfBlob,
  knownHostsName,
  loadKnownHosts,
  parseKnownHosts,
} from '../../src/transports/ssh/known-hosts.js';
import { fileCache } from '../../src/transports/ssh/file-cache.js';
import { expandPath, parseProxyJump } from '../../src/transports/ssh/config-file.js';

/** A fake but well-formed key blob of `type`. */
function blob(type: string, body = randomBytes(32)): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
}
const line = (name: string, key: Buffer): string => `${name} ${keyTypeOfBlob(key)} ${key.toString('base64')}`;

describe('known_hosts', () => {
  const k1 = blob('ssh-ed25519');
  const k2 = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');

  it('names non-22 ports as [host]:port', () => {
    expect(knownHostsName('web', 22)).toBe('web');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('matches plain names, comma lists, wildcards and negations; skips comments, markers it ignores, junk', () => {
    const text = [
      '# comment',
      '',
      line('a,b.example.com,[c]:2222', k1),
      line('*.prod,!bad.prod', k2),
      `@cert-authority *.x ${keyTypeOfBlob(k1)} ${k1.toString('base64')}`,
      'garbage',
    ].join('\n');
    const e = parseKnownHosts(text);
    expect(e.map((x) => x.line)).toEqual([3, 4, 5]);
    expect(checkHostKey(e, 'b.example.com', k1)).toEqual({ kind: 'known', line: 3 });
    expect(checkHostKey(e, '[c]:2222', k1).kind).toBe('known');
    expect(checkHostKey(e, 'c', k1).kind).toBe('unknown'); // port 22 name differs
    expect(checkHostKey(e, 'web.prod', k2).kind).toBe('known');
    expect(checkHostKey(e, 'bad.prod', k2).kind).toBe('unknown');
    expect(checkHostKey(e, 'q.x', k1).kind).toBe('unknown'); // cert-authority lines are not host keys
    // Names compare without case, as OpenSSH does; a plain name is not a prefix or a pattern.
    expect(checkHostKey(e, 'B.Example.COM', k1).kind).toBe('known');
    expect(checkHostKey(e, 'b.example.com.evil', k1).kind).toBe('unknown');
    expect(checkHostKey(e, 'bxexample.com', k1).kind).toBe('unknown');
    expect(checkHostKey(e, 'WEB.PROD', k2).kind).toBe('known');
    expect(checkHostKey(e, 'BAD.prod', k2).kind).toBe('unknown');
  });

  it('matches hashed |1|salt|hash names (HMAC-SHA1), as ssh-keygen -H writes them', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[db]:2200').digest();
    const e = parseKnownHosts(`|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyTypeOfBlob(k1)} ${k1.toString('base64')}\n`);
    expect(checkHostKey(e, '[db]:2200', k1).kind).toBe('known');
    expect(checkHostKey(e, 'db', k1).kind).toBe('unknown');
  });

  it('a different key for a known host is a mismatch listing the known fingerprints and lines', () => {
    const e = parseKnownHosts(`${line('h', k1)}\n${line('h', rsa)}\n`);
    const v = checkHostKey(e, 'h', k2);
    expect(v).toEqual({
      kind: 'mismatch',
      expected: [
        { keyType: 'ssh-ed25519', fingerprint: fingerprint(k1), line: 1 },
        { keyType: 'ssh-rsa', fingerprint: fingerprint(rsa), line: 2 },
      ],
    });
  });

  it('@revoked wins over a matching known line', () => {
    const e = parseKnownHosts(`${line('h', k1)}\n@revoked * ${keyTypeOfBlob(k1)} ${k1.toString('base64')}\n`);
    expect(checkHostKey(e, 'h', k1)).toEqual({ kind: 'revoked', line: 2 });
  });

  it('offers the known key types first, RSA under its signature algorithms', () => {
    const defaults = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    const e = parseKnownHosts(`${line('h', rsa)}\n${line('other', k1)}\n`);
    expect(hostKeyAlgorithms(e, 'h', defaults)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256']);
    expect(hostKeyAlgorithms(e, 'nobody', defaults)).toEqual(defaults);
  });

  it('the index finds what a scan of every line finds, in file order', () => {
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('h2').digest('base64')}`;
    const text = [
      line('h1,H2', k1),
      line('*.prod,!bad.prod', k2),
      line('h2', rsa),
      `@revoked * ${keyTypeOfBlob(k2)} ${k2.toString('base64')}`,
      line(hashed, k2),
      line('[h3]:2222,h1', k2),
      line('h4,h5*', k1),
      `@cert-authority h1 ${keyTypeOfBlob(k1)} ${k1.toString('base64')}`,
    ].join('\n');
    const all = parseKnownHosts(text);
    const kh = indexKnownHosts(all);
    const defaults = ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    for (const name of ['h1', 'H1', 'h2', '[h3]:2222', 'h3', 'h4', 'h55', 'web.prod', 'bad.prod', 'nobody', 'hé']) {
      const some = entriesFor(kh, name);
      expect(some.map((e) => e.line)).toEqual([...some].sort((a, b) => a.line - b.line).map((e) => e.line));
      for (const key of [k1, k2, rsa]) expect(checkHostKey(some, name, key)).toEqual(checkHostKey(all, name, key));
      expect(hostKeyAlgorithms(some, name, defaults)).toEqual(hostKeyAlgorithms(all, name, defaults));
    }
    // Lines that cannot concern a name are left out: the point of the index.
    expect(entriesFor(kh, 'h4').map((e) => e.line)).toEqual([2, 4, 5, 7, 8]);
  });

  it('reads a file once while it is unchanged, and again once it changes (an accept-new append)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chopsticks-khc-')), 'known_hosts');
    writeFileSync(file, `${line('a', k1)}\n`);
    const parse = fileCache((data) => ({ text: data.toString('utf8') }));
    const first = await parse(file);
    expect(await parse(file)).toBe(first);
    await appendKnownHost(file, 'b', k2);
    expect((await parse(file)).text).toBe(`${line('a', k1)}\n${line('b', k2)}\n`);
    expect(checkHostKey(entriesFor(await loadKnownHosts(file), 'b'), 'b', k2).kind).toBe('known');
    await expect(parse(join(file, 'none'))).rejects.toThrow();
    expect(entriesFor(await loadKnownHosts(join(file, '..', 'none')), 'a')).toEqual([]);
  });

  it('fingerprints like ssh-keygen -lf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-fp-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const pub = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ');
    const want = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprint(Buffer.from(pub[1]!, 'base64'))).toBe(want);
  });

  it('appends concurrently: 50 racing names each land once, whole lines, after an unterminated last line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chopsticks-kh-')), 'nested', 'known_hosts');
    const keys = Array.from({ length: 50 }, (_, i) => ({ name: `[10.0.0.${i}]:22`, key: blob('ssh-ed25519') }));
    await appendKnownHost(file, 'first', k1);
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd()); // no final newline
    const results = await Promise.all([...keys, ...keys].map((k) => appendKnownHost(file, k.name, k.key)));
    expect(results.filter((r) => r === 'added')).toHaveLength(50);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([line('first', k1), ...keys.map((k) => line(k.name, k.key))]);
    expect(existsSync(file)).toBe(true);
  });
});

describe('ssh config helpers', () => {
  it('expands ~, %h, %r, %%', () => {
    expect(expandPath('~/.ssh/%r@%h_%%', { host: 'db', user: 'bob', home: '/home/x' })).toBe('/home/x/.ssh/bob@db_%');
  });

  it('parses ProxyJump chains', () => {
    expect(parseProxyJump('alice@gw:2222, [fe80::1]:22,plain,ssh://u@h:3')).toEqual([
      { user: 'alice', host: 'gw', port: 2222 },
      { user: undefined, host: 'fe80::1', port: 22 },
      { user: undefined, host: 'plain', port: undefined },
      { user: 'u', host: 'h', port: 3 },
    ]);
  });
});
