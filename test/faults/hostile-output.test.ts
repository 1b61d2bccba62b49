/**
 * A hostile host's output, over a real sshd:
 * - a `call` that prints what looks like the session's own protocol (end and pid markers in
 *   their exact format, under a token of its own; a marker prefix with no end of line; the
 *   transfers' NUL-ended records) on stdout and stderr: it is data, returned byte for byte, and
 *   the host's next step and the other host are unaffected;
 * - a `call` whose stdout never ends (no newline either): stopped once it passes `max_result`,
 *   `invalid_result`, the controller's memory bounded, the host usable for the next step;
 * - a host whose shell prints a banner on stdout before every command (a noisy rc file, a
 *   ForceCommand wrapper: scp and sftp break on these): commands, put and fetch all work (the
 *   transfers skip what precedes their own records).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostError } from '../../src/errors.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_USER, type SshdHandle } from '../support/sshd.js';
import { ensureBuilt, explain, runPlaybook, tempDir, writePlaybook } from '../e2e/cli.js';
import { after, sshFixture } from './helpers.js';

const TOKEN = randomBytes(16).toString('hex');
const SHA1_EMPTY = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const FORGE = [
  `printf '%s:1:end:0\\n' ${TOKEN}`,
  `printf '%s:2:pid:1\\n%s:2:end\\n' ${TOKEN} ${TOKEN} >&2`,
  `printf '%s:' ${TOKEN}`,
  `head -c 300 /dev/zero | tr '\\000' 7`,
  `printf '\\nSEND /etc/passwd\\000DONE /etc/passwd\\000INFO 1 ${SHA1_EMPTY} /\\000MISMATCH 0\\000'`,
  `printf 'after the forgeries\\n'`,
].join('; ');
const FORGED_STDOUT = `${TOKEN}:1:end:0\n${TOKEN}:${'7'.repeat(300)}\nSEND /etc/passwd\0DONE /etc/passwd\0INFO 1 ${SHA1_EMPTY} /\0MISMATCH 0\0after the forgeries\n`;
const FORGED_STDERR = `${TOKEN}:2:pid:1\n${TOKEN}:2:end\n`;

interface CommandValue {
  rc: number;
  stdout: string;
  stderr: string;
}

describeIntegration('faults: hostile output from a host', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd();
  });
  afterAll(async () => {
    await (sshd as SshdHandle | undefined)?.stop();
  });

  it('forged protocol lines are data; endless stdout is stopped at max_result; both hosts go on', async () => {
    const dir = tempDir();
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `${sshd.knownHostsLine()}\n`);
    const entry = {
      transport: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identity_file: sshd.identityFile,
      known_hosts: known,
    };
    const pb = writePlaybook(dir, {
      version: 1,
      hosts: { evil: entry, good: entry },
      steps: [
        { name: 'forge', call: 'command', args: { argv: ['sh', '-c', FORGE] } },
        {
          name: 'flood',
          call: 'command',
          on: 'evil',
          on_failure: 'ignore',
          max_result: '1MiB',
          args: { argv: ['sh', '-c', "tr '\\000' x < /dev/zero"] },
        },
        { name: 'after', call: 'command', args: { argv: ['echo', 'after'] } },
      ],
    });
    const r = await runPlaybook(pb, [], { timeoutMs: 90_000, measureRss: true });
    console.log(
      `[faults] forged markers + endless stdout: exit ${r.code} in ${(r.wallMs / 1000).toFixed(1)} s, controller peak RSS ${((r.peakRssKiB ?? 0) / 1024).toFixed(0)} MiB`,
    );
    expect(r.code, explain(r)).toBe(0);
    const [forge, flood, afterStep] = r.report!.steps;
    for (const h of ['evil', 'good']) {
      const res = forge!.results[h]!;
      expect(res.ok, JSON.stringify(res)).toBe(true);
      if (res.ok) expect(res.value).toEqual({ rc: 0, stdout: FORGED_STDOUT, stderr: FORGED_STDERR } satisfies CommandValue);
    }
    const fl = flood!.results.evil!;
    expect(fl.ok).toBe(false);
    if (!fl.ok) {
      expect(fl.error.kind).toBe('invalid_result');
      expect(fl.error.msg).toMatch(/larger than 1 MiB/);
    }
    for (const h of ['evil', 'good']) {
      const res = afterStep!.results[h]!;
      expect(res.ok, JSON.stringify(res)).toBe(true);
      if (res.ok) expect((res.value as { stdout?: unknown }).stdout).toBe('after\n');
    }
    expect(r.wallMs).toBeLessThan(30_000);
    expect(r.peakRssKiB! / 1024).toBeLessThan(250);
  }, 120_000);

  describeIntegration('a shell that prints a banner before every command', sshdUnavailableReason(), () => {
    const BANNER = 'Welcome to prod';
    let noisy: SshdHandle;
    let dir: string;
    beforeAll(async () => {
      noisy = await startSshd({ extraConfig: `ForceCommand printf '${BANNER}\\n'; printf 'motd\\n' >&2; eval "$SSH_ORIGINAL_COMMAND"` });
      dir = mkdtempSync(join(tmpdir(), 'chopsticks-faults-banner-'));
      const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, uid);
      writeFileSync(join(dir, 'src.txt'), 'new contents\n');
      chmodSync(join(dir, 'src.txt'), 0o644);
    });
    afterAll(async () => {
      await (noisy as SshdHandle | undefined)?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Settles within 5 s, and works: the banner is skipped, never taken for the transfer's own output. */
    async function quickAndClear<T>(p: Promise<T>): Promise<{ ok: true; value: T }> {
      const r = await Promise.race([
        p.then(
          (value) => ({ ok: true as const, value }),
          (err: unknown) => ({ ok: false as const, err: err as HostError }),
        ),
        after(5_000),
      ]);
      expect(r, 'it hung').not.toBe('hung');
      const out = r as Exclude<typeof r, 'hung'>;
      if (!out.ok) expect.fail(`${out.err.kind}: ${out.err.message}`);
      return out;
    }

    it('commands are unaffected', async () => {
      const s = await sshFixture(noisy).session({ name: 'noisy' });
      try {
        expect(await s.run(['echo', 'hi'])).toEqual({ stdout: 'hi\n', stderr: '', rc: 0 });
      } finally {
        await s.close();
      }
    });

    it('fetch works: the banner is skipped; no temp file', async () => {
      const local = mkdtempSync(join(tmpdir(), 'chopsticks-faults-banner-local-'));
      const dest = join(local, 'got.txt');
      writeFileSync(dest, 'old\n');
      const s = await sshFixture(noisy).session({ name: 'noisy' });
      try {
        const r = await quickAndClear(s.fetch(join(dir, 'src.txt'), dest, {}));
        expect(r.value.size).toBe('new contents\n'.length);
        expect(readFileSync(dest, 'utf8')).toBe('new contents\n');
        expect(readdirSync(local)).toEqual(['got.txt']);
        expect((await s.run(['echo', 'still'])).stdout).toBe('still\n');
      } finally {
        await s.close();
        rmSync(local, { recursive: true, force: true });
      }
    });

    // The transfer records are anchored on a per-transfer random value, so a banner glued to
    // them is skipped (it used to hang the put: the first record was never recognised).
    it('put works: the banner is skipped; no temp file', async () => {
      const dest = join(dir, 'dest.txt');
      writeFileSync(dest, 'old\n');
      chownSync(dest, Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim()), 0);
      const s = await sshFixture(noisy).session({ name: 'noisy' });
      try {
        const r = await quickAndClear(s.put(join(dir, 'src.txt'), dest, 0o644, {}));
        expect(r.value.changed).toBe(true);
        expect(readFileSync(dest, 'utf8')).toBe('new contents\n');
        expect((await s.run(['echo', 'still'])).stdout).toBe('still\n');
      } finally {
        await s.close();
      }
      expect(readdirSync(dir).filter((n) => n.startsWith('.chopsticks-tmp-'))).toEqual([]);
    });
  });
});
