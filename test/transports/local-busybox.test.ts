import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { builtinCallables } from '../../src/callables/index.js';
import { isMissingPath } from '../../src/callables/remote-file.js';
import { LocalTransport } from '../../src/transports/local/index.js';
import { ENV_READER, envHeader } from '../../src/transports/become-env.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { describeIntegration } from '../support/integration.js';
import { call, makeCtx } from '../callables/helpers.js';
import { transportContract } from './contract.js';
import { busyboxPath } from './busybox-bin.js';

const bin = busyboxPath();

describeIntegration('local transport with busybox only', bin === undefined ? 'busybox is not installed' : undefined, () => {
  afterAll(() => {
    if (bin !== undefined) rmSync(bin, { recursive: true, force: true });
  });

  transportContract('local (busybox)', () => new LocalTransport({ hostName: 'bb', env: { PATH: bin! } }), {
    remoteDir: tmpdir(),
    hostName: 'bb',
    skipLarge: true,
  });

  describe('facts on busybox', () => {
    let s: HostSession;
    beforeAll(async () => {
      s = await openSession(new LocalTransport({ hostName: 'bb', env: { PATH: bin! } }), { name: 'bb' });
    });
    afterAll(async () => {
      await (s as typeof s | undefined)?.close();
    });

    it('every fact answers with its shape', async () => {
      expect(await call(s, 'ping')).toBe('pong');
      expect(typeof (await call(s, 'facts.hostname'))).toBe('string');
      const os = (await call(s, 'facts.os')) as Record<string, unknown>;
      expect(typeof os.kernel).toBe('string');
      expect((os.kernel as string).length).toBeGreaterThan(0);
      expect((await call(s, 'facts.cpu')) as object).toMatchObject({ count: expect.any(Number) as number });
      expect(((await call(s, 'facts.cpu')) as { count: number }).count).toBeGreaterThanOrEqual(1);
      expect((await call(s, 'facts.memory')) as object).toMatchObject({ total_bytes: expect.any(Number) as number });
      expect((await call(s, 'facts.disk', { path: '/' })) as object).toMatchObject({ mount: '/' });
      expect(await call(s, 'facts.which', { name: 'sha1sum' })).toBe(`${bin}/sha1sum`);
      expect(Number.isInteger(await call(s, 'facts.uptime'))).toBe(true);
      const f = (await call(s, 'facts.file', { path: `${bin}/sh` })) as Record<string, unknown>;
      expect(f).toMatchObject({ exists: true, type: 'symlink' });
      const ip = await call(s, 'facts.ip');
      expect(ip === null || typeof ip === 'string').toBe(true);
    });

    // With become, env values reach the program through this reader under sudo; here busybox's
    // sh runs it (no sudo needed to check that its `read` leaves the program's input whole).
    it('the become env reader: exports the values and leaves the input after them untouched', async () => {
      const env: Array<[string, string]> = [
        ['A', `it's\n\n"q" $x`],
        ['n', '7'],
      ];
      const prog = ['sh', '-c', 'printf "%s|%s|" "$A" "$n"; cat'];
      const r = await s.run(['sh', '-c', ENV_READER, 'sh', ...prog], { stdin: `${envHeader(env, true)}in\0put\n` });
      expect(r).toEqual({ rc: 0, stdout: `${env[0]![1]}|7|in\0put\n`, stderr: '' });
      const none = await s.run(['sh', '-c', ENV_READER, 'sh', 'sh', '-c', 'readlink /proc/$$/fd/0; echo "$A"'], {
        stdin: envHeader([['A', 'a']], false),
      });
      expect(none).toEqual({ rc: 0, stdout: '/dev/null\na\n', stderr: '' });
    });
  });

  // busybox has no sudo applet: this host is one where become cannot work.
  describe('become on a host without sudo', () => {
    let s: HostSession;
    let dir: string;
    beforeAll(async () => {
      s = await openSession(new LocalTransport({ hostName: 'bb', env: { PATH: bin! } }), { name: 'bb' });
      dir = mkdtempSync(join(tmpdir(), 'chopsticks-nosudo-'));
      writeFileSync(join(dir, 'f.txt'), 'x\n');
    });
    afterAll(async () => {
      await (s as typeof s | undefined)?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function noSudo(p: Promise<unknown>): Promise<void> {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(HostError);
      expect((e as HostError).kind).toBe('failed');
      expect((e as HostError).message).toMatch(/become: root needs sudo on the host, and bb has none/);
    }

    it('commands, file in check mode, put and fetch say sudo is missing (not that the path is)', async () => {
      await noSudo(s.run(['true'], { become: 'root' }));
      const file = builtinCallables.get('file')!;
      await noSudo(file.check!(makeCtx(s, { path: `${dir}/new`, state: 'directory' }, { become: 'root' })));
      await noSudo(s.fetch(`${dir}/f.txt`, join(dir, 'back.txt'), { become: 'root' }));
      await noSudo(s.put(join(dir, 'f.txt'), `${dir}/g.txt`, 0o644, { become: 'root' }));
      // Without become the session works as before.
      expect((await s.run(['true'])).rc).toBe(0);
    });
  });
});

describe('the missing-path test of file and line', () => {
  it('is stat\'s own message about the path, not any "not found"', () => {
    expect(isMissingPath("stat: cannot statx '/x': No such file or directory\n")).toBe(true);
    expect(isMissingPath("stat: cannot stat '/x': No such file or directory\n")).toBe(true);
    expect(isMissingPath("stat: can't stat '/x': No such file or directory\n")).toBe(true);
    expect(isMissingPath("/usr/bin/stat: cannot statx '/x y': No such file or directory\n")).toBe(true);
    expect(isMissingPath('sh: exec: line 3: sudo: not found\n')).toBe(false);
    expect(isMissingPath('sh: 1: sudo: not found\n')).toBe(false);
    expect(isMissingPath("stat: cannot statx '/f/x': Not a directory\n")).toBe(true);
    expect(isMissingPath("stat: cannot statx '/root/x': Permission denied\n")).toBe(false);
  });
});
