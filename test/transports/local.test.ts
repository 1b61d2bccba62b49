import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import { transportContract } from './contract.js';

transportContract('local', () => new LocalTransport({ hostName: 'local-contract' }), {
  remoteDir: tmpdir(),
  hostName: 'local-contract',
});

describe('local transport specifics', () => {
  it('an interrupted put to a fresh temp path leaves neither its file nor the private folder made for it', async () => {
    const remoteTmp = mkdtempSync(join(tmpdir(), 'chopsticks-remote-tmp-'));
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-src-'));
    const s = await openSession(new LocalTransport({ hostName: 'l', env: { TMPDIR: remoteTmp } }), { name: 'l' });
    try {
      const src = join(dir, 'files.tar');
      writeFileSync(src, Buffer.alloc(64 * 1024 * 1024));
      const ac = new AbortController();
      const put = s.put(src, undefined, 0o600, { signal: ac.signal, onProgress: (b) => b > 0 && ac.abort() });
      await expect(put).rejects.toMatchObject({ kind: 'cancelled' });
      await s.close();
      expect(readdirSync(remoteTmp)).toEqual([]);
    } finally {
      await s.close();
      rmSync(remoteTmp, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('put removes stale temp files (older than an hour) beside its destination, and only those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-stale-'));
    const s = await openSession(new LocalTransport({ hostName: 'l' }), { name: 'l' });
    try {
      const stale = join(dir, '.chopsticks-tmp-deadbeef');
      const fresh = join(dir, '.chopsticks-tmp-inflight');
      writeFileSync(stale, 'x');
      writeFileSync(fresh, 'y');
      const old = Date.now() / 1000 - 2 * 3600;
      utimesSync(stale, old, old);
      const src = join(dir, 'src.txt');
      writeFileSync(src, 'data\n');
      await s.put(src, join(dir, 'out.txt'), 0o644);
      expect(readdirSync(dir).sort()).toEqual(['.chopsticks-tmp-inflight', 'out.txt', 'src.txt']);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('put removes a leftover whose writing shell is gone, however fresh, and keeps one whose writer lives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-dead-writer-'));
    const s = await openSession(new LocalTransport({ hostName: 'l' }), { name: 'l' });
    try {
      // A pid that is surely not running: the largest pid_max allows, plus one.
      const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
      const dead = join(dir, `.chopsticks-tmp-${deadPid}-0123abcd`);
      const live = join(dir, `.chopsticks-tmp-${process.pid}-4567cdef`);
      writeFileSync(dead, 'x');
      writeFileSync(live, 'y');
      const src = join(dir, 'src.txt');
      writeFileSync(src, 'data\n');
      await s.put(src, join(dir, 'out.txt'), 0o644);
      expect(readdirSync(dir).sort()).toEqual([`.chopsticks-tmp-${process.pid}-4567cdef`, 'out.txt', 'src.txt']);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a local file edited between two puts is hashed again (the per-process sha1 memo follows the file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-rehash-'));
    const s = await openSession(new LocalTransport({ hostName: 'l' }), { name: 'l' });
    try {
      const src = join(dir, 'src.txt');
      writeFileSync(src, 'version 1\n');
      const first = await s.put(src, join(dir, 'out.txt'), 0o644);
      writeFileSync(src, 'version 2\n');
      const later = Date.now() / 1000 + 5;
      utimesSync(src, later, later);
      const second = await s.put(src, join(dir, 'out.txt'), 0o644);
      expect(second.changed).toBe(true);
      expect(second.sha1sum).not.toBe(first.sha1sum);
      expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('version 2\n');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cwd and env of the host apply to every command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-cwd-'));
    const s = await openSession(new LocalTransport({ hostName: 'l', cwd: dir, env: { HOST_LEVEL: 'yes' } }), { name: 'l' });
    try {
      expect((await s.run(['sh', '-c', 'pwd; echo $HOST_LEVEL'])).stdout).toBe(`${dir}\nyes\n`);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fetch and stat of a relative path named like an option ("-a.txt") read that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-dash-'));
    writeFileSync(join(dir, '-a.txt'), 'dash\n');
    const s = await openSession(new LocalTransport({ hostName: 'l', cwd: dir }), { name: 'l' });
    try {
      expect(await s.stat('-a.txt')).toMatchObject({ exists: true, type: 'file', size: 5, mode: '0644' });
      const v = await s.fetch('-a.txt', join(dir, 'back.txt'));
      expect(v.remote_path).toBe(join(dir, '-a.txt'));
      expect(readFileSync(join(dir, 'back.txt'), 'utf8')).toBe('dash\n');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fetched file gets 0666 less the umask when new, and keeps the mode of the file it replaces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-fetchmode-'));
    writeFileSync(join(dir, 'src.txt'), 'v\n', { mode: 0o600 });
    const s = await openSession(new LocalTransport({ hostName: 'l' }), { name: 'l' });
    try {
      await s.fetch(join(dir, 'src.txt'), join(dir, 'new.txt'));
      const umask = parseInt(execFileSync('sh', ['-c', 'umask']).toString().trim(), 8);
      expect(statSync(join(dir, 'new.txt')).mode & 0o7777).toBe(0o666 & ~umask);
      for (const mode of [0o644, 0o640]) {
        writeFileSync(join(dir, 'old.txt'), 'old\n');
        chmodSync(join(dir, 'old.txt'), mode);
        await s.fetch(join(dir, 'src.txt'), join(dir, 'old.txt'));
        expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe('v\n');
        expect(statSync(join(dir, 'old.txt')).mode & 0o7777).toBe(mode);
      }
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a relative path in the folder / is /rel in remote_path (put, its check, and fetch alike), not //rel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-root-rel-'));
    writeFileSync(join(dir, 'x.txt'), 'x\n');
    const rel = `${dir.slice(1)}/rel/x.txt`;
    const s = await openSession(new LocalTransport({ hostName: 'l', cwd: '/' }), { name: 'l' });
    try {
      expect((await s.putCheck(join(dir, 'x.txt'), rel, 0o644)).remote_path).toBe(`/${rel}`);
      expect((await s.put(join(dir, 'x.txt'), rel, 0o644)).remote_path).toBe(`/${rel}`);
      expect((await s.fetch(rel, join(dir, 'back.txt'))).remote_path).toBe(`/${rel}`);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing cwd fails to open with an error naming the folder', async () => {
    const e = await openSession(new LocalTransport({ hostName: 'l', cwd: '/no/such/dir' }), { name: 'l' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).kind).toBe('not_found');
    expect((e as HostError).message).toContain('/no/such/dir');
  });
});
