/**
 * ssh-agent (SSH_AUTH_SOCK) against a real OpenSSH ssh-agent: a key only the agent holds, and an
 * encrypted identity_file whose key the agent has unlocked. Never a prompt.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, rejection, run, sshHost, testCtx } from './helpers.js';

function agentUnavailableReason(): string | undefined {
  const r = sshdUnavailableReason();
  if (r) return r;
  try {
    execFileSync('sh', ['-c', 'command -v ssh-agent && command -v ssh-add'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'ssh-agent / ssh-add not installed (openssh-client)';
  }
}

describeIntegration('ssh transport: ssh-agent', agentUnavailableReason(), () => {
  let sshd: SshdHandle;
  let agent: ChildProcess;
  const ctxBase = testCtx();
  const sock = join(ctxBase.home, 'agent.sock');
  const encrypted = join(ctxBase.home, 'id_encrypted');
  const open: Transport[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    // The test key, encrypted with a passphrase, then unlocked into an agent through SSH_ASKPASS.
    copyFileSync(sshd.identityFile, encrypted);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'agent-pass', '-f', encrypted]);
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const askpass = join(ctxBase.home, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho agent-pass\n', { mode: 0o700 });
    execFileSync('ssh-add', [encrypted], {
      env: { PATH: process.env.PATH, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      stdio: 'pipe',
    });
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    (agent as typeof agent | undefined)?.kill();
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('with no identity_file, the key the agent holds logs in', async () => {
    const ctx = testCtx({ env: { PATH: process.env.PATH, SSH_AUTH_SOCK: sock } });
    const t = createSshTransport(
      sshHost(sshd, { identity_file: undefined, known_hosts: knownHostsFile(ctx.home, [sshd.knownHostsLine()]) }),
      ctx,
    );
    open.push(t);
    expect((await run(t, ['echo', 'via agent'])).stdout.toString()).toBe('via agent\n');
  });

  it('an encrypted identity_file is not prompted for; the agent that unlocked it is used', async () => {
    const ctx = testCtx({ env: { PATH: process.env.PATH, SSH_AUTH_SOCK: sock } });
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    const t = createSshTransport(sshHost(sshd, { identity_file: encrypted, known_hosts: kh }), ctx);
    open.push(t);
    expect((await run(t, ['id', '-un'])).stdout.toString()).toBe(`${sshd.user}\n`);
    // Without the agent, the same host fails fast and says why.
    const err = await rejection(createSshTransport(sshHost(sshd, { identity_file: encrypted, known_hosts: kh }), testCtx()).connect());
    expect(err.kind).toBe('auth_failed');
    expect(err.message).toMatch(/encrypted/);
  });
});
