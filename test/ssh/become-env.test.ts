/**
 * `env:` values with `become` (docs/language.md#secrets): sudo resets the environment, yet the
 * values (secrets among them) must reach the program without ever sitting in a process's argv,
 * which every user of the host can read (`ps`, /proc/PID/cmdline). The "host" is this machine,
 * so the test reads every process's argv while the command runs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostSession } from '../../src/transports/session.js';
import { openSession } from '../../src/transports/shell-session.js';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_USER, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, sshHost, testCtx } from './helpers.js';

const SUDO = '/usr/bin/sudo';
/** Another user than the login one, and not root: a file only the login user can read would not do. */
const BECOME = 'nobody';

function argvsOfAllProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' '));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every argv seen on the machine while `p` runs, sampled as often as the event loop allows. */
async function argvsWhile<T>(p: Promise<T>): Promise<{ value: T; seen: Set<string> }> {
  const seen = new Set<string>();
  const state = { done: false };
  const settled = p.finally(() => {
    state.done = true;
  });
  while (!state.done) {
    for (const a of argvsOfAllProcesses()) seen.add(a);
    await new Promise((r) => setImmediate(r));
  }
  return { value: await settled, seen };
}

const reason = sshdUnavailableReason() ?? (existsSync(SUDO) ? undefined : `${SUDO} not found (apt-get install -y sudo)`);

describeIntegration('ssh: env values with become never appear in an argv', reason, () => {
  let sshd: SshdHandle;
  let session: HostSession;
  const ctx = testCtx();
  // Only `nobody`, never root: e2e/ssh.test.ts checks that becoming root without sudo rights fails.
  const sudoers = `/etc/sudoers.d/chopsticks-become-env-${process.pid}`;

  beforeAll(async () => {
    writeFileSync(sudoers, `${TEST_USER} ALL=(${BECOME}) NOPASSWD: ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-f', sudoers], { stdio: 'pipe' });
    sshd = await startSshd();
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    session = await openSession(createSshTransport(sshHost(sshd, { name: 'b1', known_hosts: kh }), ctx), { name: 'b1' });
  });
  afterAll(async () => {
    rmSync(sudoers, { force: true });
    await (session as HostSession | undefined)?.close();
    await (sshd as SshdHandle | undefined)?.stop();
  });

  it('the program sees the variable; no argv on the host holds its value while it runs', async () => {
    const secret = `cs-secret-${randomBytes(8).toString('hex')}`;
    const marker = `cs-marker-${randomBytes(4).toString('hex')}`;
    const { value: r, seen } = await argvsWhile(
      session.run(['sh', '-c', `: ${marker}; id -un; printf '%s' "$CS_SECRET"; sleep 1`], { become: BECOME, env: { CS_SECRET: secret } }),
    );
    expect(r).toEqual({ rc: 0, stdout: `${BECOME}\n${secret}`, stderr: '' });
    // The sampling did see the command and sudo running, so it would have seen the value.
    expect([...seen].some((a) => a.includes(marker))).toBe(true);
    expect([...seen].some((a) => a.startsWith('sudo '))).toBe(true);
    expect([...seen].filter((a) => a.includes(secret))).toEqual([]);
  });

  it('values are kept byte for byte (quotes, newlines, spaces), several at once, and stdin still reaches the program', async () => {
    // n, e, l: the names of the reader's own variables (become-env.ts).
    const env = { A: `it's "q" $HOME \`id\`\n\nline3\n`, B: ' lead and trail ', C: '', D: 'ünï😀\\n', n: '3', e: 'exit 9', l: 'x\ny' };
    const r = await session.run(['sh', '-c', 'printf "%s|" "$A" "$B" "$C" "$D" "$n" "$e" "$l"; cat'], {
      become: BECOME,
      env,
      stdin: 'in\0put\nend',
    });
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe(`${env.A}|${env.B}||${env.D}|3|exit 9|x\ny|in\0put\nend`);
  });

  it('without stdin the program reads /dev/null, as without env', async () => {
    const r = await session.run(['sh', '-c', 'cat; readlink /proc/$$/fd/0; echo "end $X"'], {
      become: BECOME,
      env: { X: 'x' },
      timeoutMs: 10_000,
    });
    expect(r).toEqual({ rc: 0, stdout: '/dev/null\nend x\n', stderr: '' });
  });

  it('a program that is not there fails as without env (rc 127, not found)', async () => {
    const r = await session.run(['no-such-program-cs'], { become: BECOME, env: { X: 'x' } });
    expect(r.rc).toBe(127);
    expect(r.stderr).toMatch(/not found|No such file/);
  });
});
