import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import type { Transport } from '../../src/transports/types.js';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, TEST_PASSWORD, type SshdHandle } from '../support/sshd.js';
import { knownHostsFile, rejection, run, sshHost, testCtx } from './helpers.js';

describeIntegration('ssh transport against real sshd', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  const ctx = testCtx();
  let kh: string;
  const open: Transport[] = [];
  const make = (over: Parameters<typeof sshHost>[1] = {}, c = ctx): Transport => {
    const t = createSshTransport(sshHost(sshd, { known_hosts: kh, ...over }), c);
    open.push(t);
    return t;
  };
  const keygen = (name: string, pass = ''): string => {
    const f = join(ctx.home, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-f', f]);
    return f;
  };
  const sshdFingerprint = (): string =>
    execFileSync('ssh-keygen', ['-lf', join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;

  beforeAll(async () => {
    sshd = await startSshd();
    kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
  });
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('runs commands on one connection: exit codes, stderr, stdin bytes', async () => {
    const t = make();
    await t.connect();
    const before = readFileSync(sshd.logFile, 'utf8').split('Accepted publickey').length;
    const r = await run(t, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stderr: 'err\n' });
    expect(r.stdout.toString()).toBe('out\n');
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect((await run(t, ['cat'], bytes)).stdout.equals(bytes)).toBe(true);
    expect((await run(t, ['id', '-un'])).stdout.toString()).toBe(`${sshd.user}\n`);
    const after = readFileSync(sshd.logFile, 'utf8').split('Accepted publickey').length;
    expect(after).toBe(before); // no new login: all of it went through the first connection
  });

  it('passes argv with shell metacharacters byte for byte', async () => {
    const t = make();
    const args = [
      'a b',
      '$HOME',
      "it's",
      '"q"',
      ';ls',
      '`id`',
      '$(id)',
      '*',
      'x\ny',
      'back\\slash',
      'ünï😀',
      '',
      '-n',
      'A=b',
      '~',
      '#c',
      '&&',
      '|',
      '>f',
      '{a,b}',
      '\t',
    ];
    const r = await run(t, ['printf', '%s\\0', ...args]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString('utf8').split('\0').slice(0, -1)).toEqual(args);
    // argv[0] itself quoted, too: a name with a space is not split
    const r2 = await run(t, ['A=b', 'true']);
    expect(r2.code).toBe(127);
  });

  it('kill() sends TERM to the command (stdin already closed) and exit settles', async () => {
    const t = make();
    const p = t.spawn(['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; sleep 30 & wait']);
    p.stdin.end();
    let out = '';
    await new Promise<void>((resolve) =>
      p.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) resolve();
      }),
    );
    const t0 = Date.now();
    p.kill();
    const res = await p.exit;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(res.code).not.toBe(0);
    expect(out).toContain('got-term');
  });

  it('runs 20 commands at once on the one connection', async () => {
    const t = make();
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => run(t, ['sh', '-c', `sleep 0.2; echo ${i}`])));
    expect(many.map((m) => m.stdout.toString().trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('an aborted spawn rejects with cancelled', async () => {
    const t = make();
    const ac = new AbortController();
    const p = t.spawn(['sleep', '30'], { signal: ac.signal });
    p.stdin.end();
    setTimeout(() => ac.abort(), 300);
    const err = await rejection(p.exit);
    expect(err.kind).toBe('cancelled');
  });

  it('a refused port is unreachable, fast, and names host:port', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const t0 = Date.now();
    const err = await rejection(make({ port }).connect());
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/refused/);
  });

  it('with no credential to offer, a closed port is still unreachable, and a live sshd is auth_failed', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const missing = join(ctx.home, 'no-such-key');
    expect((await rejection(make({ port, identity_file: missing }).connect())).kind).toBe('unreachable');
    const err = await rejection(make({ identity_file: missing }).connect());
    expect(err.kind).toBe('auth_failed');
    expect(err.message).toContain('no-such-key');
  });

  it('a name that does not resolve is unreachable and says so', async () => {
    const err = await rejection(make({ host: 'no-such-host.invalid' }).connect());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/host name not found/);
    expect(err.message).toContain('no-such-host.invalid');
  });

  it('a server that never answers is a timeout within connect_timeout', async () => {
    const socks: Socket[] = [];
    const srv: Server = createServer((s) => socks.push(s)); // accepts, says nothing
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const t0 = Date.now();
    const err = await rejection(make({ port, connect_timeout_ms: 700 }).connect());
    const took = Date.now() - t0;
    socks.forEach((s) => s.destroy());
    srv.close();
    expect(err.kind).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(3000);
    expect(err.message).toContain('within 700ms');
  });

  it('a wrong key is auth_failed, listing what was tried, and is not retried', async () => {
    const wrong = keygen('wrong_key');
    const before = readFileSync(sshd.logFile, 'utf8').split('Connection from').length;
    const err = await rejection(make({ identity_file: wrong }).connect());
    expect(err.kind).toBe('auth_failed');
    expect(err.message).toContain(`publickey ${wrong}`);
    const after = readFileSync(sshd.logFile, 'utf8').split('Connection from').length;
    expect(after - before).toBe(1);
  });

  it('an encrypted key without agent fails fast saying it is encrypted', async () => {
    const enc = keygen('enc_key', 'secret-pass');
    const err = await rejection(make({ identity_file: enc }).connect());
    expect(err.kind).toBe('auth_failed');
    expect(err.message).toMatch(/enc_key is encrypted/);
    expect(err.message).toMatch(/ssh-agent/);
  });

  it('strict: an unknown host key is hostkey_unknown with its SHA256 fingerprint', async () => {
    const empty = knownHostsFile(ctx.home, [], 'kh_empty');
    const err = await rejection(make({ known_hosts: empty }).connect());
    expect(err.kind).toBe('hostkey_unknown');
    expect(err.message).toContain(sshdFingerprint());
    expect(err.message).toContain('ssh-keyscan');
    expect(err.message).toContain('accept-new');
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('a changed host key is hostkey_mismatch under strict and accept-new', async () => {
    const other = keygen('other_host_key');
    const otherPub = readFileSync(`${other}.pub`, 'utf8').split(' ');
    const file = knownHostsFile(ctx.home, ['# a comment', `[${sshd.host}]:${sshd.port} ${otherPub[0]} ${otherPub[1]}`], 'kh_changed');
    const oldFp = execFileSync('ssh-keygen', ['-lf', `${other}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
    for (const host_key_check of ['strict', 'accept-new'] as const) {
      const err = await rejection(make({ known_hosts: file, host_key_check }).connect());
      expect(err.kind).toBe('hostkey_mismatch');
      expect(err.message).toContain(sshdFingerprint());
      expect(err.message).toContain(oldFp);
      expect(err.message).toContain(`${file}:2`);
    }
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    // off: the changed key is accepted, with a warning that names both fingerprints.
    const c = testCtx();
    await make({ known_hosts: file, host_key_check: 'off' }, c).connect();
    expect(c.warnings.join('\n')).toMatch(/CHANGED/);
    expect(c.warnings.join('\n')).toContain(oldFp);
    // off, and then the login fails: that is auth_failed (the key was accepted), warning kept.
    const c2 = testCtx();
    const denied = await rejection(
      make({ known_hosts: file, host_key_check: 'off', identity_file: join(c2.home, 'missing_key') }, c2).connect(),
    );
    expect(denied.kind).toBe('auth_failed');
    expect(c2.warnings.join('\n')).toMatch(/CHANGED/);
  });

  it('accept-new records an unknown key once, then strict accepts it', async () => {
    const file = join(ctx.home, 'sub', 'kh_new');
    const t = make({ known_hosts: file, host_key_check: 'accept-new' });
    expect((await run(t, ['echo', 'hi'])).stdout.toString()).toBe('hi\n');
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine()}\n`);
    await make({ known_hosts: file, host_key_check: 'strict' }).connect();
    await make({ known_hosts: file, host_key_check: 'accept-new' }).connect();
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine()}\n`);
  });

  it('off accepts any key and warns', async () => {
    const c = testCtx();
    const t = make({ known_hosts: join(c.home, 'none'), host_key_check: 'off' }, c);
    await t.connect();
    expect(c.warnings.join('\n')).toMatch(/host key checking is off/);
    expect(c.warnings.join('\n')).toContain(sshdFingerprint());
  });

  it('a hashed known_hosts entry (ssh-keygen -H) is recognised', async () => {
    const file = knownHostsFile(ctx.home, [sshd.knownHostsLine()], 'kh_hashed');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    await make({ known_hosts: file }).connect();
  });

  it('a @revoked key is refused even when also listed as known', async () => {
    const [type, b64] = sshd.hostKeyPub.split(' ');
    const file = knownHostsFile(ctx.home, [sshd.knownHostsLine(), `@revoked * ${type} ${b64}`], 'kh_revoked');
    const err = await rejection(make({ known_hosts: file, host_key_check: 'accept-new' }).connect());
    expect(err.kind).toBe('hostkey_mismatch');
    expect(err.message).toMatch(/revoked/);
  });
});

describeIntegration('ssh transport: password_env', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  beforeAll(async () => {
    sshd = await startSshd({ password: true });
  });
  afterAll(async () => {
    await (sshd as typeof sshd | undefined)?.stop();
  });

  it('logs in with the password from the named variable; missing or wrong is auth_failed', async () => {
    const ctx = testCtx({ env: { MY_PW: TEST_PASSWORD, BAD_PW: 'nope' } });
    const kh = knownHostsFile(ctx.home, [sshd.knownHostsLine()]);
    const base = { known_hosts: kh, identity_file: undefined };
    const ok = createSshTransport(sshHost(sshd, { ...base, password_env: 'MY_PW' }), ctx);
    expect((await run(ok, ['id', '-un'])).stdout.toString()).toBe(`${sshd.user}\n`);
    await ok.close();

    const missing = await rejection(createSshTransport(sshHost(sshd, { ...base, password_env: 'NOT_SET' }), ctx).connect());
    expect(missing.kind).toBe('auth_failed');
    expect(missing.message).toMatch(/NOT_SET, which is not set/);

    const bad = await rejection(createSshTransport(sshHost(sshd, { ...base, password_env: 'BAD_PW' }), ctx).connect());
    expect(bad.kind).toBe('auth_failed');
    expect(bad.message).toContain('password (from $BAD_PW)');
    expect(bad.message).not.toContain('nope');
  });
});
