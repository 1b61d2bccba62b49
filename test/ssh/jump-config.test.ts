import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import { describeIntegration } from '../support/integration.js';
import { freePort, startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, rejection, run, sshHost, testCtx } from './helpers.js';

const logins = (d: SshdHandle): number => readFileSync(d.logFile, 'utf8').split('Accepted publickey').length - 1;

describeIntegration('ssh transport: ssh config and jump hosts', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  let noForward: SshdHandle;
  const open: Transport[] = [];
  beforeAll(async () => {
    [sshd, noForward] = await Promise.all([startSshd(), startSshd({ extraConfig: 'AllowTcpForwarding no' })]);
  });
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await Promise.all([(sshd as typeof sshd | undefined)?.stop(), (noForward as typeof noForward | undefined)?.stop()]);
  });

  it('a Host alias gets HostName, User, Port and IdentityFile (%r) from the ssh config; the playbook wins where it speaks', async () => {
    const ctx = testCtx();
    copyFileSync(sshd.identityFile, join(ctx.home, `${sshd.user}_key`));
    const cfg = join(ctx.home, 'ssh_config');
    writeFileSync(
      cfg,
      `Host other\n  User nobody\n\nHost db-alias\n  HostName ${sshd.host}\n  User ${sshd.user}\n  Port ${sshd.port}\n  IdentityFile ~/%r_key\n\nHost *\n  Port 1\n`,
    );
    ctx.sshConfigPath = cfg;
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    const bare = { known_hosts: kh, port: undefined, user: undefined, identity_file: undefined };
    const t = createSshTransport(sshHost(sshd, { ...bare, host: 'db-alias' }), ctx);
    open.push(t);
    expect(t.address).toBe(`${sshd.user}@${sshd.host}:${sshd.port}`);
    expect((await run(t, ['id', '-un'])).stdout.toString()).toBe(`${sshd.user}\n`);

    const refused = await rejection(createSshTransport(sshHost(sshd, { ...bare, host: 'db-alias', port: 1 }), ctx).connect());
    expect(refused.kind).toBe('unreachable');
    expect(refused.message).toContain(':1');
  });

  it('UserKnownHostsFile and StrictHostKeyChecking from the ssh config apply where the playbook is silent', async () => {
    const ctx = testCtx();
    knownHostsFile(ctx.home, [sshd.knownHostsLine()], 'kh_second');
    const cfg = join(ctx.home, 'ssh_config');
    ctx.sshConfigPath = cfg;
    const silent = { known_hosts: undefined, host_key_check: undefined };
    // The key is in the second file: known, so strict (`yes`) connects.
    writeFileSync(cfg, `Host known\n  HostName ${sshd.host}\n  UserKnownHostsFile ~/kh_first ~/kh_second\n  StrictHostKeyChecking yes\n`);
    const t = createSshTransport(sshHost(sshd, { ...silent, host: 'known' }), ctx);
    open.push(t);
    expect((await run(t, ['id', '-un'])).stdout.toString()).toBe(`${sshd.user}\n`);
    expect(existsSync(join(ctx.home, 'kh_first'))).toBe(false);
    // accept-new learns a key no file knows into the first file.
    writeFileSync(
      cfg,
      `Host learn\n  HostName ${sshd.host}\n  UserKnownHostsFile ~/kh_new ~/kh_other\n  StrictHostKeyChecking accept-new\n`,
    );
    const learn = createSshTransport(sshHost(sshd, { ...silent, host: 'learn' }), ctx);
    open.push(learn);
    await learn.connect();
    expect(readFileSync(join(ctx.home, 'kh_new'), 'utf8')).toContain(`[${sshd.host}]:${sshd.port} `);
    // The playbook's host_key_check wins: strict with an empty known_hosts of its own refuses.
    const own = knownHostsFile(ctx.home, [], 'kh_empty');
    const err = await rejection(createSshTransport(sshHost(sshd, { known_hosts: own, host: 'learn' }), ctx).connect());
    expect(err.kind).toBe('hostkey_unknown');
  });

  it('jump: hosts behind a bastion go through one shared bastion connection', async () => {
    const ctx = testCtx();
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    ctx.hosts.set('bastion', sshHost(sshd, { name: 'bastion', known_hosts: kh }));
    const before = logins(sshd);
    const pidsBefore = sshd.sessionPids();
    const targets = ['t1', 't2', 't3'].map((name) => createSshTransport(sshHost(sshd, { name, known_hosts: kh, jump: 'bastion' }), ctx));
    open.push(...targets);
    const outs = await Promise.all(targets.map((t) => run(t, ['echo', 'via'])));
    expect(outs.map((o) => o.stdout.toString())).toEqual(['via\n', 'via\n', 'via\n']);
    expect(logins(sshd) - before).toBe(4); // 1 bastion + 3 targets
    await Promise.all(targets.map((t) => t.close()));
    // Bastion closed after the last host behind it: no session process of this test left (an
    // earlier test's may still be ending, so only new ones count).
    const added = () => sshd.sessionPids().filter((p) => !pidsBefore.includes(p));
    const deadline = Date.now() + 3000;
    while (added().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(added()).toEqual([]);
  });

  it('jump: a bastion that refuses forwarding makes the host unreachable, naming the bastion', async () => {
    const ctx = testCtx();
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine(), noForward.knownHostsLine()]);
    ctx.hosts.set('gate', sshHost(noForward, { name: 'gate', known_hosts: kh }));
    const t = createSshTransport(sshHost(sshd, { name: 'inner', known_hosts: kh, jump: 'gate' }), ctx);
    const err = await rejection(t.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain(`bastion ${noForward.user}@${noForward.host}:${noForward.port}`);
  });

  it('ProxyJump from the ssh config is followed; a jump loop is an error, not a hang', async () => {
    const ctx = testCtx();
    const cfg = join(ctx.home, 'ssh_config');
    const common = `  HostName ${sshd.host}\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.identityFile}\n`;
    writeFileSync(cfg, `Host tgt\n${common}  ProxyJump jb\n\nHost jb\n${common}`);
    ctx.sshConfigPath = cfg;
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    const before = logins(sshd);
    const t = createSshTransport(
      sshHost(sshd, { host: 'tgt', port: undefined, user: undefined, identity_file: undefined, known_hosts: kh }),
      ctx,
    );
    open.push(t);
    expect((await run(t, ['echo', 'pj'])).stdout.toString()).toBe('pj\n');
    expect(logins(sshd) - before).toBe(2);

    ctx.hosts.set('a', sshHost(sshd, { name: 'a', known_hosts: kh, jump: 'b' }));
    ctx.hosts.set('b', sshHost(sshd, { name: 'b', known_hosts: kh, jump: 'a' }));
    const loop = await rejection(createSshTransport(ctx.hosts.get('a')!, ctx).connect());
    expect(loop.kind).toBe('unreachable');
    expect(loop.message).toMatch(/loop: a -> b -> a/);
  });

  it("a ProxyJump (from the ssh config) that cannot be reached is said as the host's error, naming the jump host", async () => {
    const ctx = testCtx();
    const cfg = join(ctx.home, 'ssh_config');
    const port = await freePort('127.0.0.1');
    writeFileSync(cfg, `Host tgt\n  HostName ${sshd.host}\n  Port ${sshd.port}\n  ProxyJump ${sshd.user}@127.0.0.1:${port}\n`);
    ctx.sshConfigPath = cfg;
    const t = createSshTransport(sshHost(sshd, { name: 'pj', host: 'tgt', port: undefined }), ctx);
    const err = await rejection(t.connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(new RegExp(`^pj: through jump host 127\\.0\\.0\\.1: .*127\\.0\\.0\\.1:${port}`));
  });
});
