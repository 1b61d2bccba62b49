/**
 * The transport contract suite: the same tests for every Transport (local, ssh, docker),
 * run through the shared HostSession (long-lived shell + put/fetch) built on it.
 *
 * Use from a test file:
 *   transportContract('ssh', () => makeSshTransport(...), { remoteDir: '/tmp' });
 * Everything on the host is checked through the session itself, so the suite needs
 * nothing but the transport and a writable folder on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { openSession } from '../../src/transports/shell-session.js';
import { withPrivateTempDir } from '../../src/transports/local-temp.js';
import type { HostSession } from '../../src/transports/session.js';
import type { Transport } from '../../src/transports/types.js';
import { syncKind, type PlanSync } from '../../src/steps/sync.js';
import type { PerformContext } from '../../src/steps/types.js';
import { builtinCallables } from '../../src/callables/index.js';
import type { CallContext } from '../../src/callables/types.js';
import type { Json } from '../../src/model/playbook.js';

export interface ContractOptions {
  /** A writable folder on the host; the suite works in a fresh subfolder of it and removes it. */
  remoteDir: string;
  /** Host name given to the session (appears in messages). Default 'contract-host'. */
  hostName?: string;
  /** Skip the 20 MiB transfer tests (slow links). Default false. */
  skipLarge?: boolean;
  /** Extra slack for timing bounds, ms (slow transports). Default 0. */
  slackMs?: number;
}

const MiB = 1024 * 1024;

function sha1(buf: Buffer): string {
  return createHash('sha1').update(buf).digest('hex');
}

async function expectHostError(p: Promise<unknown>, kind: string): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).kind).toBe(kind);
    return e as HostError;
  }
  throw new Error(`expected a HostError of kind ${kind}, but it succeeded`);
}

export function transportContract(name: string, makeTransport: () => Transport | Promise<Transport>, opts: ContractOptions): void {
  const hostName = opts.hostName ?? 'contract-host';
  const slack = opts.slackMs ?? 0;

  describe(`transport contract: ${name}`, () => {
    let s: HostSession;
    let dir: string;
    let local: string;

    const openNew = async (): Promise<HostSession> => openSession(await makeTransport(), { name: hostName, vars: {} });
    const remoteText = async (path: string): Promise<string> => (await s.run(['cat', path])).stdout;
    const remoteLs = async (path: string): Promise<string[]> =>
      (await s.run(['ls', '-a', path])).stdout.split('\n').filter((l) => l !== '' && l !== '.' && l !== '..');

    beforeAll(async () => {
      s = await openNew();
      dir = `${opts.remoteDir.replace(/\/$/, '')}/chopsticks-contract-${randomBytes(6).toString('hex')}`;
      const r = await s.run(['mkdir', '-p', dir]);
      expect(r.rc).toBe(0);
      local = mkdtempSync(join(tmpdir(), 'chopsticks-contract-'));
    });

    afterAll(async () => {
      if ((s as HostSession | undefined) !== undefined) {
        await s.run(['rm', '-rf', dir]).catch(() => {});
        await s.close();
      }
      if ((local as string | undefined) !== undefined) rmSync(local, { recursive: true, force: true });
    });

    describe('commands', () => {
      it('passes argv with shell metacharacters and unicode byte for byte', async () => {
        const weird = [`$(touch /tmp/pwned) ; | & ' " \\ \`x\``, 'line1\nline2', '  spaced  ', '', '*', 'ünï€ódé ✓', '-n', '$HOME'];
        for (const w of weird) {
          const r = await s.run(['printf', '%s', w]);
          expect(r.rc).toBe(0);
          expect(r.stdout).toBe(w);
        }
        const r = await s.run(['sh', '-c', 'for a; do printf "[%s]" "$a"; done', 'sh', ...weird]);
        expect(r.stdout).toBe(weird.map((w) => `[${w}]`).join(''));
      });

      it('feeds stdin exactly, NUL and quotes included, with no newline added', async () => {
        const data = `a'b"c\\d\0e\n\nü$(x)`;
        const r = await s.run(['od', '-An', '-c'], { stdin: data });
        expect(r.rc).toBe(0);
        const back = await s.run(['cat'], { stdin: data });
        expect(back.stdout).toBe(data);
        const empty = await s.run(['wc', '-c'], { stdin: '' });
        expect(empty.stdout.trim()).toBe('0');
      });

      it('a command without stdin reads EOF, not the session script', async () => {
        const r = await s.run(['cat']);
        expect(r).toEqual({ stdout: '', stderr: '', rc: 0 });
        expect((await s.run(['echo', 'still here'])).stdout).toBe('still here\n');
      });

      it('reports rc, stderr, cwd and env', async () => {
        expect((await s.run(['sh', '-c', 'exit 7'])).rc).toBe(7);
        const seen: string[] = [];
        const r = await s.run(['sh', '-c', 'echo out; echo err >&2; exit 3'], { onStderr: (t) => seen.push(t) });
        expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', rc: 3 });
        expect(seen.join('')).toBe('err\n');
        const e = await s.run(['sh', '-c', 'pwd; printf "%s" "$FOO"'], { cwd: dir, env: { FOO: `a b'$c` } });
        expect(e.stdout).toBe(`${dir}\na b'$c`);
        const missing = await s.run(['chopsticks-no-such-program']);
        expect(missing.rc).toBe(127);
        // A builtin name runs the program, in a subshell: the session is unaffected.
        expect((await s.run(['cd', '/'])).rc).not.toBe(0 + 999);
        expect((await s.run(['sh', '-c', 'exit 0'])).rc).toBe(0);
      });

      it('refuses output that is not UTF-8 as invalid_result (never replaced silently), and stays usable', async () => {
        const err = await expectHostError(s.run(['printf', 'ab\\377c']), 'invalid_result');
        expect(err.message).toMatch(/stdout is not valid UTF-8 text \(bad byte at offset 2\)/);
        await expectHostError(s.run(['sh', '-c', 'printf "\\377" >&2']), 'invalid_result');
        expect((await s.run(['printf', 'caf\\303\\251'])).stdout).toBe('café');
      });

      it('returns large output whole and cuts output past maxStdout, staying usable', async () => {
        const big = await s.run(['sh', '-c', 'head -c 5242880 /dev/zero | tr "\\000" x'], { maxStdout: 8 * MiB });
        expect(big.stdout.length).toBe(5 * MiB);
        const t0 = Date.now();
        const err = await expectHostError(
          s.run(['sh', '-c', 'while :; do head -c 5242880 /dev/zero; done'], { maxStdout: MiB }),
          'invalid_result',
        );
        expect(err.message).toContain('output larger than 1 MiB');
        expect(Date.now() - t0).toBeLessThan(8000 + slack);
        expect((await s.run(['echo', 'ok'])).stdout).toBe('ok\n');
      });

      it('times out within bounds, kills the command and its children, and stays usable', async () => {
        const pidFile = `${dir}/timeout.pid`;
        const t0 = Date.now();
        const err = await expectHostError(
          s.run(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo $$ >> ${pidFile}; wait`], { timeoutMs: 500 }),
          'timeout',
        );
        const elapsed = Date.now() - t0;
        expect(elapsed).toBeGreaterThanOrEqual(450);
        expect(elapsed).toBeLessThan(4000 + slack);
        expect(err.message).toContain(hostName);
        expect(err.message).toContain('timed out after 500ms');
        const pids = (await remoteText(pidFile)).trim().split('\n');
        expect(pids.length).toBe(2);
        let alive = '';
        for (let i = 0; i < 30; i++) {
          // A zombie (dead, not yet reaped: containers often have no init) counts as gone.
          const script =
            'for p; do kill -0 "$p" 2>/dev/null || continue; read -r _ _ st _ < /proc/$p/stat 2>/dev/null && [ "$st" = Z ] && continue; echo "$p"; done; true';
          alive = (await s.run(['sh', '-c', script, 'sh', ...pids])).stdout;
          if (alive === '') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(alive).toBe('');
        expect((await s.run(['echo', 'after'])).stdout).toBe('after\n');
      });

      it('cancels on AbortSignal with kind cancelled', async () => {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 200);
        await expectHostError(s.run(['sleep', '30'], { signal: ac.signal }), 'cancelled');
        await expectHostError(s.run(['echo', 'x'], { signal: ac.signal }), 'cancelled');
        expect((await s.run(['echo', 'next'])).stdout).toBe('next\n');
      });

      it('serializes concurrent calls and gives each its own output', async () => {
        const log = `${dir}/serial.log`;
        const runs = Array.from({ length: 8 }, (_, i) =>
          s.run(['sh', '-c', `echo start >> ${log}; sleep 0.05; echo end >> ${log}; echo ${i}`]),
        );
        const results = await Promise.all(runs);
        expect(results.map((r) => r.stdout)).toEqual(results.map((_, i) => `${i}\n`));
        expect((await remoteText(log)).trim().split('\n')).toEqual(Array.from({ length: 8 }, () => ['start', 'end']).flat());
      });

      it('fails the command in flight and later ones with connection_lost when the shell dies', async () => {
        const doomed = await openNew();
        expect((await doomed.run(['echo', 'alive'])).stdout).toBe('alive\n');
        // The command's parent is the session shell itself.
        const err = await expectHostError(doomed.run(['sh', '-c', 'kill -9 $PPID; sleep 1']), 'connection_lost');
        expect(err.message).toContain(hostName);
        await expectHostError(doomed.run(['echo', 'x']), 'connection_lost');
        await doomed.close();
      });

      it('runs shell command lines through sh -c', async () => {
        const r = await s.shell('echo "$((6*7))" | tr 4 X');
        expect(r.stdout).toBe('X2\n');
      });
    });

    describe('put', () => {
      it('a newline in the destination or the folder is kept whole in remote_path (put and fetch)', async () => {
        const src = join(local, 'nl.txt');
        writeFileSync(src, 'newline\n');
        const dest = `${dir}/with\nnewline/na\nme.txt`;
        const v = await s.put(src, dest, 0o644);
        expect(v.remote_path).toBe(dest);
        expect(await remoteText(dest)).toBe('newline\n');
        expect((await s.putCheck(src, dest, 0o644)).remote_path).toBe(dest);
        const back = await s.fetch(dest, join(local, 'nl-back.txt'));
        expect(back.remote_path).toBe(dest);
        expect(readFileSync(join(local, 'nl-back.txt'), 'utf8')).toBe('newline\n');
      });

      it('uploads a new file, then leaves an identical one alone', async () => {
        const src = join(local, 'hello.txt');
        writeFileSync(src, 'hello\n');
        const dest = `${dir}/put/new/deeper/hello.txt`;
        const v = await s.put(src, dest, 0o640);
        expect(v).toEqual({ remote_path: dest, size: 6, sha1sum: sha1(Buffer.from('hello\n')), changed: true });
        expect(await remoteText(dest)).toBe('hello\n');
        expect((await s.stat(dest)).mode).toBe('0640');
        const again = await s.put(src, dest, 0o640);
        expect(again.changed).toBe(false);
        const check = await s.putCheck(src, dest, 0o640);
        expect(check.changed).toBe(false);
        expect((await s.putCheck(src, dest, 0o600)).changed).toBe(true);
        expect((await s.putCheck(src, `${dir}/put/missing.txt`, 0o644)).changed).toBe(true);
        expect((await s.stat(`${dir}/put/missing.txt`)).exists).toBe(false);
        const modeOnly = await s.put(src, dest, 0o600);
        expect(modeOnly.changed).toBe(true);
        expect((await s.stat(dest)).mode).toBe('0600');
        expect(await remoteLs(`${dir}/put/new/deeper`)).toEqual(['hello.txt']);
      });

      it('puts into a folder when `to` ends in /, and to a fresh temp path when none', async () => {
        const src = join(local, 'inner.cfg');
        writeFileSync(src, 'x=1\n');
        const v = await s.put(src, `${dir}/put/folder/`, 0o644);
        expect(v.remote_path).toBe(`${dir}/put/folder/inner.cfg`);
        expect(await remoteText(v.remote_path)).toBe('x=1\n');
        const t = await s.put(src, undefined, 0o644);
        expect(t.remote_path.startsWith('/')).toBe(true);
        expect(t.remote_path.endsWith('/inner.cfg')).toBe(true);
        expect(await remoteText(t.remote_path)).toBe('x=1\n');
        await s.run(['rm', '-rf', t.remote_path.slice(0, t.remote_path.lastIndexOf('/'))]);
      });

      it('uploads a 0-byte file', async () => {
        const src = join(local, 'empty');
        writeFileSync(src, '');
        const v = await s.put(src, `${dir}/put/empty`, 0o644);
        expect(v.size).toBe(0);
        expect(v.sha1sum).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
        expect((await s.stat(`${dir}/put/empty`)).size).toBe(0);
      });

      it.skipIf(opts.skipLarge === true)('streams a 20 MiB file and fetches it back with matching sha1', async () => {
        const src = join(local, 'big.bin');
        const fd = openSync(src, 'w');
        const h = createHash('sha1');
        for (let i = 0; i < 20; i++) {
          const chunk = randomBytes(MiB);
          h.update(chunk);
          writeSync(fd, chunk);
        }
        closeSync(fd);
        const want = h.digest('hex');
        let lastProgress = 0;
        const v = await s.put(src, `${dir}/put/big.bin`, 0o644, { onProgress: (b) => (lastProgress = b) });
        expect(v.sha1sum).toBe(want);
        expect(v.size).toBe(20 * MiB);
        expect(lastProgress).toBe(20 * MiB);
        expect((await s.stat(`${dir}/put/big.bin`)).sha1sum).toBe(want);
        const back = join(local, 'back', 'big.bin');
        const f = await s.fetch(`${dir}/put/big.bin`, back);
        expect(f).toEqual({ local_path: back, remote_path: `${dir}/put/big.bin`, size: 20 * MiB, sha1sum: want });
        expect(sha1(readFileSync(back))).toBe(want);
      });

      it('a failed upload leaves the old file intact and no temp files behind', async () => {
        const src = join(local, 'big2.bin');
        writeFileSync(src, randomBytes(8 * MiB));
        const dest = `${dir}/put/keep/target.bin`;
        const old = join(local, 'old.txt');
        writeFileSync(old, 'old contents\n');
        await s.put(old, dest, 0o644);
        const ac = new AbortController();
        await expectHostError(s.put(src, dest, 0o644, { signal: ac.signal, onProgress: (b) => b > 0 && ac.abort() }), 'cancelled');
        expect(await remoteText(dest)).toBe('old contents\n');
        // Leftover temp files are the session's to remove when it closes.
        const other = await openNew();
        await s.close();
        s = other;
        expect(await remoteLs(`${dir}/put/keep`)).toEqual(['target.bin']);
      });

      it('fails with not_found for a missing local file', async () => {
        await expectHostError(s.put(join(local, 'nope'), `${dir}/put/x`, 0o644), 'not_found');
      });

      it('refuses a destination that is a folder', async () => {
        const src = join(local, 'hello.txt');
        writeFileSync(src, 'hello\n');
        await s.run(['mkdir', '-p', `${dir}/put/adir`]);
        await expect(s.put(src, `${dir}/put/adir`, 0o644)).rejects.toBeInstanceOf(HostError);
      });
    });

    describe('fetch', () => {
      it('fetches to a path, making folders', async () => {
        await s.run(['sh', '-c', `printf 'remote data\\n' > ${dir}/f.txt`]);
        const to = join(local, 'fetched', 'a', 'b', 'f.txt');
        const v = await s.fetch(`${dir}/f.txt`, to);
        expect(v).toEqual({
          local_path: to,
          remote_path: `${dir}/f.txt`,
          size: 12,
          sha1sum: sha1(Buffer.from('remote data\n')),
        });
        expect(readFileSync(to, 'utf8')).toBe('remote data\n');
      });

      it('fetches into a fresh local temp file when no path is given', async () => {
        const v = await s.fetch(`${dir}/f.txt`, undefined);
        expect(v.local_path.startsWith(tmpdir())).toBe(true);
        expect(readFileSync(v.local_path, 'utf8')).toBe('remote data\n');
        rmSync(v.local_path);
      });

      it('missing remote file → not_found, and the old local file stays intact', async () => {
        const to = join(local, 'keep', 'k.txt');
        await s.fetch(`${dir}/f.txt`, to);
        const err = await expectHostError(s.fetch(`${dir}/no-such-file`, to), 'not_found');
        expect(err.message).toContain(hostName);
        expect(readFileSync(to, 'utf8')).toBe('remote data\n');
        expect(readdirSync(join(local, 'keep'))).toEqual(['k.txt']);
      });

      it('stat describes files, folders and missing paths', async () => {
        expect(await s.stat(`${dir}/f.txt`)).toEqual({
          exists: true,
          type: 'file',
          size: 12,
          mode: expect.stringMatching(/^0[0-7]{3}$/) as string,
          sha1sum: sha1(Buffer.from('remote data\n')),
        });
        expect((await s.stat(dir)).type).toBe('directory');
        expect(await s.stat(`${dir}/absent`)).toEqual({ exists: false, type: null, size: null, mode: null, sha1sum: null });
        expect(existsSync(local)).toBe(true);
      });

      it('stat describes a symlink itself, or with follow what it points to (as fetch reads it)', async () => {
        await s.run(['ln', '-sf', `${dir}/f.txt`, `${dir}/link`]);
        await s.run(['ln', '-sf', `${dir}/nowhere`, `${dir}/dangling`]);
        expect((await s.stat(`${dir}/link`)).type).toBe('symlink');
        expect(await s.stat(`${dir}/link`, { follow: true })).toMatchObject({
          exists: true,
          type: 'file',
          size: 12,
          sha1sum: sha1(Buffer.from('remote data\n')),
        });
        expect((await s.stat(`${dir}/dangling`, { follow: true })).exists).toBe(false);
      });
    });

    describe('declared state: sync, file, line (the shell tools they need on the host)', () => {
      const performCtx = (check = false): PerformContext => ({
        host: hostName,
        hostVars: {},
        vars: {},
        baseDir: local,
        check,
        diff: false,
        maxResult: MiB,
        results: {},
        session: async () => s,
        callable: async () => {
          throw new Error('no callables here');
        },
        privateTempDir: withPrivateTempDir,
        onStderr: () => {},
        onProgress: () => {},
      });
      const syncStep = (to: string, extra: Partial<PlanSync> = {}): PlanSync => ({
        kind: 'sync',
        index: 0,
        name: 'sync',
        on: { type: 'name', name: 'all', pos: 0 },
        onText: 'all',
        targets: { lower: [hostName], upper: [hostName] },
        policy: { on_failure: 'continue', retries: 0, retry_delay_ms: 0 },
        pos: { file: 'contract', line: 1, col: 1 },
        src: 'tree',
        to,
        delete: false,
        exclude: [],
        ...extra,
      });
      const call = async (name: string, args: Record<string, Json>, check = false) => {
        const c = builtinCallables.get(name)!;
        const ctx: CallContext = {
          session: s,
          hostName,
          hostVars: {},
          args,
          baseDir: local,
          signal: new AbortController().signal,
          maxResult: MiB,
          call: async () => null,
        };
        return check ? c.check!(ctx) : c.invoke(ctx);
      };

      it('sync copies a tree (nested files, modes, a relative link), then sends nothing, then only what changed; delete removes the rest', async () => {
        const tree = join(local, 'tree');
        const { mkdirSync, symlinkSync, chmodSync } = await import('node:fs');
        mkdirSync(join(tree, 'a/b'), { recursive: true });
        writeFileSync(join(tree, 'top.txt'), 'top\n');
        writeFileSync(join(tree, 'a/b/deep.bin'), randomBytes(100_000));
        chmodSync(join(tree, 'top.txt'), 0o600);
        symlinkSync('top.txt', join(tree, 'link'));
        const to = `${dir}/sync`;
        const signal = new AbortController().signal;
        const check = await syncKind.perform(syncStep(to), performCtx(true), signal);
        expect(check.value).toMatchObject({ changed: true, changed_files: ['a/b/deep.bin', 'link', 'top.txt'], bytes_sent: 0 });
        const first = await syncKind.perform(syncStep(to), performCtx(), signal);
        expect(first.value).toMatchObject({ remote_path: to, files: 3, changed: true, bytes_sent: 100_004 });
        expect(await remoteText(`${to}/top.txt`)).toBe('top\n');
        expect((await s.stat(`${to}/top.txt`)).mode).toBe('0600');
        expect((await s.stat(`${to}/a/b/deep.bin`, { withSha1: true })).sha1sum).toBe(sha1(readFileSync(join(tree, 'a/b/deep.bin'))));
        expect((await s.run(['readlink', `${to}/link`])).stdout.trim()).toBe('top.txt');
        const same = await syncKind.perform(syncStep(to), performCtx(), signal);
        expect(same).toMatchObject({ changed: false, value: { changed_files: [], bytes_sent: 0 } });
        writeFileSync(join(tree, 'top.txt'), 'changed\n');
        await s.run(['sh', '-c', `echo stale > ${to}/stale.txt`]);
        const third = await syncKind.perform(syncStep(to, { delete: true }), performCtx(), signal);
        expect(third.value).toMatchObject({ changed_files: ['top.txt'], deleted: ['stale.txt'] });
        expect(await remoteLs(to)).toEqual(expect.arrayContaining(['a', 'link', 'top.txt']));
        expect((await remoteLs(to)).filter((n) => n.startsWith('.chopsticks') || n === 'stale.txt')).toEqual([]);
      });

      it('file and line: check mode says what the run then does; the second run changes nothing', async () => {
        const d = `${dir}/state`;
        const dirArgs = { path: `${d}/etc`, state: 'directory', mode: '0750' };
        expect(await call('file', dirArgs, true)).toMatchObject({
          would_change: true,
          value: { actions: ['create directory', 'chmod 0750'] },
        });
        expect(await call('file', dirArgs)).toMatchObject({ changed: true });
        expect((await s.stat(`${d}/etc`)).mode).toBe('0750');
        expect(await call('file', dirArgs)).toMatchObject({ changed: false });
        const lineArgs = { path: `${d}/etc/app.conf`, line: 'port=80', regexp: '^port=', create: true };
        expect(await call('line', lineArgs, true)).toMatchObject({ would_change: true });
        expect(await call('line', lineArgs)).toMatchObject({ changed: true });
        expect(await remoteText(`${d}/etc/app.conf`)).toBe('port=80\n');
        expect(await call('line', lineArgs)).toMatchObject({ changed: false });
        expect(await call('file', { path: `${d}/etc/l`, state: 'link', src: 'app.conf' })).toMatchObject({ changed: true });
        expect(await call('file', { path: `${d}/etc/l`, state: 'link', src: 'app.conf' })).toMatchObject({ changed: false });
      });
    });
  });
}
