import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { BUILTIN_SIGNATURES } from '../../src/callables/builtins.js';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { parseCpuFacts, parseDf, parseIpFacts, parseMeminfo, parseOsFacts } from '../../src/callables/facts.js';
import { call } from './helpers.js';

let s: HostSession;

beforeAll(async () => {
  s = await openSession(new LocalTransport({ hostName: 'box', env: { CHOPSTICKS_TEST_VAR: 'a b $c' } }), { name: 'box' });
});
afterAll(async () => {
  await s.close();
});

async function hostError(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HostError);
    return e as HostError;
  }
  throw new Error('expected a HostError');
}

describe('built-in callables', () => {
  it('the docs table lists every built-in with its args and mutating flag, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/language.md', import.meta.url), 'utf8');
    const start = doc.indexOf('| callable | args | value |', doc.indexOf('## Built-in callables'));
    const section = doc.slice(start, doc.indexOf('\n\n', start));
    const rows = [...section.matchAll(/^\| `([\w.]+)`( \*\(mutating[^|]*)? \| ([^|]*) \|/gm)];
    const documented = new Map(rows.map((m) => [m[1]!, { mutating: m[2] !== undefined, args: m[3]! }]));
    expect([...documented.keys()].sort()).toEqual(BUILTIN_SIGNATURES.map((x) => x.name).sort());
    for (const sig of BUILTIN_SIGNATURES) {
      expect(documented.get(sig.name)?.mutating, sig.name).toBe(!sig.readonly);
      // Every argument a user must give is in the table (optional ones may be described below it).
      const required = (sig.schema.required as string[] | undefined) ?? [];
      for (const arg of required) expect(documented.get(sig.name)?.args, `${sig.name}: ${arg}`).toContain(`\`${arg}\``);
    }
  });

  it('ping answers pong', async () => {
    expect(await call(s, 'ping')).toBe('pong');
  });

  it('facts on this Debian machine have the documented shapes', async () => {
    expect(await call(s, 'facts.hostname')).toBe(hostname());
    const os = (await call(s, 'facts.os')) as Record<string, unknown>;
    expect(os.id).toBe('debian');
    expect(os.version).toMatch(/^\d+/);
    expect(os.kernel).toBe(execFileSync('uname', ['-r']).toString().trim());
    expect(os.arch).toBe(execFileSync('uname', ['-m']).toString().trim());
    const up = await call(s, 'facts.uptime');
    expect(Number.isInteger(up) && (up as number) > 0).toBe(true);
    const cpu = (await call(s, 'facts.cpu')) as { count: number; model: string | null };
    expect(cpu.count).toBeGreaterThanOrEqual(1);
    const mem = (await call(s, 'facts.memory')) as { total_bytes: number; available_bytes: number };
    expect(mem.total_bytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(mem.available_bytes).toBeGreaterThan(0);
    expect(mem.available_bytes).toBeLessThanOrEqual(mem.total_bytes);
    const disk = (await call(s, 'facts.disk', { path: '/' })) as Record<string, number | string>;
    expect(disk.mount).toBe('/');
    expect(disk.total_bytes as number).toBeGreaterThan(0);
    expect((disk.used_bytes as number) + (disk.available_bytes as number)).toBeLessThanOrEqual((disk.total_bytes as number) * 1.1);
    const ip = await call(s, 'facts.ip');
    expect(ip === null || (typeof ip === 'string' && /^[0-9a-f.:]+$/i.test(ip) && !ip.startsWith('127.'))).toBe(true);
  });

  it('facts.disk on a missing path is not_found', async () => {
    expect((await hostError(call(s, 'facts.disk', { path: '/no/such/place' }))).kind).toBe('not_found');
  });

  it('facts.env gives the value, or null when unset, and refuses names that are not names', async () => {
    expect(await call(s, 'facts.env', { name: 'CHOPSTICKS_TEST_VAR' })).toBe('a b $c');
    expect(await call(s, 'facts.env', { name: 'CHOPSTICKS_SURELY_UNSET' })).toBeNull();
    expect((await hostError(call(s, 'facts.env', { name: 'X; touch /tmp/pwned' }))).message).toContain('not an environment variable name');
  });

  it('facts.which finds programs by path and gives null otherwise', async () => {
    expect(await call(s, 'facts.which', { name: 'sh' })).toMatch(/^\/.*\/sh$/);
    expect(await call(s, 'facts.which', { name: 'echo' })).toMatch(/^\/.*\/echo$/);
    expect(await call(s, 'facts.which', { name: 'no-such-program-xyz' })).toBeNull();
    expect(await call(s, 'facts.which', { name: '$(touch /tmp/pwned)' })).toBeNull();
  });

  it('facts.file describes a file and a missing path', async () => {
    const f = (await call(s, 'facts.file', { path: '/etc/os-release' })) as Record<string, unknown>;
    expect(f.exists).toBe(true);
    expect(['file', 'symlink']).toContain(f.type);
    const missing = await call(s, 'facts.file', { path: '/no/such/file' });
    expect(missing).toEqual({ exists: false, type: null, size: null, mode: null, sha1sum: null });
  });

  it('test: rc 0 → true, 1 → false, other → failed naming the host', async () => {
    expect(await call(s, 'test', { cmd: 'true' })).toBe(true);
    expect(await call(s, 'test', { cmd: 'exit 1' })).toBe(false);
    const e = await hostError(call(s, 'test', { cmd: 'echo nope >&2; exit 3' }));
    expect(e.kind).toBe('failed');
    expect(e.message).toContain('box');
    expect(e.message).toContain('exited 3');
    expect(e.message).toContain('nope');
  });

  it('command passes metacharacters literally and honours stdin, cwd, env and ok_codes', async () => {
    const weird = `$(echo hacked); rm -rf / | 'q' "d" \`x\` \n end`;
    expect(await call(s, 'command', { argv: ['printf', '%s', weird] })).toEqual({ stdout: weird, stderr: '', rc: 0 });
    expect(await call(s, 'command', { argv: ['cat'], stdin: 'in put' })).toEqual({ stdout: 'in put', stderr: '', rc: 0 });
    const r = (await call(s, 'command', { argv: ['sh', '-c', 'pwd; echo "$K"'], cwd: '/tmp', env: { K: 'v v' } })) as { stdout: string };
    expect(r.stdout).toBe('/tmp\nv v\n');
    expect(await call(s, 'command', { argv: ['sh', '-c', 'exit 2'], ok_codes: [0, 2] })).toEqual({ stdout: '', stderr: '', rc: 2 });
    const e = await hostError(call(s, 'command', { argv: ['sh', '-c', 'echo bad thing >&2; exit 5'] }));
    expect(e.kind).toBe('failed');
    expect(e.message).toMatch(/box: command `sh -c .*` exited 5: bad thing/);
  });

  it('a program that is not there is not_found; one that cannot be executed is permission_denied', async () => {
    const missing = await hostError(call(s, 'command', { argv: ['no-such-program-chopsticks'] }));
    expect(missing.kind).toBe('not_found');
    expect(missing.message).toContain('exited 127');
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-noexec-'));
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o644 });
    expect((await hostError(call(s, 'command', { argv: [join(dir, 'tool')] }))).kind).toBe('permission_denied');
    rmSync(dir, { recursive: true, force: true });
  });

  it('command output larger than the result limit is invalid_result', async () => {
    const e = await hostError(call(s, 'command', { argv: ['head', '-c', '3000000', '/dev/zero'] }));
    expect(e.kind).toBe('invalid_result');
    expect(e.message).toContain('output larger than 1 MiB');
  });

  it('shell interprets its command line', async () => {
    expect(await call(s, 'shell', { cmd: 'echo $((2+3)) | sed s/5/five/' })).toEqual({ stdout: 'five\n', stderr: '', rc: 0 });
    expect((await hostError(call(s, 'shell', { cmd: 'exit 9' }))).message).toContain('exited 9 (no stderr)');
  });

  it('script json: uploads, runs with args unchanged, parses, and removes the script', async () => {
    const v = (await call(s, 'script', { path: 'emit-json.sh', args: ['a b', '$x'], output: 'json' })) as { args: string[]; shell: string };
    expect(v.args).toEqual(['a b', '$x']);
    expect(v.shell).toBe('emit-json.sh');
    const left = execFileSync('sh', ['-c', 'ls -d ${TMPDIR:-/tmp}/chopsticks-* 2>/dev/null | wc -l']).toString().trim();
    const before = Number(left);
    await call(s, 'script', { path: 'emit-json.sh', output: 'json' });
    expect(Number(execFileSync('sh', ['-c', 'ls -d ${TMPDIR:-/tmp}/chopsticks-* 2>/dev/null | wc -l']).toString().trim())).toBe(before);
  });

  it('script text and interpreter', async () => {
    expect(await call(s, 'script', { path: 'emit-text.sh', args: ['x'], output: 'text' })).toBe('hello from Linux\nargs: x\n');
    const py = (await call(s, 'script', { path: 'no-shebang.py', interpreter: 'python3', args: ['1'], output: 'json' })) as unknown;
    if (execFileSync('sh', ['-c', 'command -v python3 || true']).toString().trim() !== '') expect(py).toEqual({ argv: ['1'] });
  });

  it('script with invalid JSON, or a __proto__ key, is invalid_result; a failing script is failed', async () => {
    const bad = await hostError(call(s, 'script', { path: 'emit-bad-json.sh', output: 'json' }));
    expect(bad.kind).toBe('invalid_result');
    expect(bad.message).toContain('box');
    expect((await hostError(call(s, 'script', { path: 'emit-proto.sh', output: 'json' }))).kind).toBe('invalid_result');
    const f = await hostError(call(s, 'script', { path: 'fail.sh' }));
    expect(f.kind).toBe('failed');
    expect(f.message).toContain('exited 4: something broke');
    expect((await hostError(call(s, 'script', { path: 'missing.sh' }))).kind).toBe('not_found');
  });

  it("the step's deadline and cancellation reach the command (one signal; run/host-step.ts names its reason)", async () => {
    const t0 = Date.now();
    expect((await hostError(call(s, 'command', { argv: ['sleep', '20'] }, { signal: AbortSignal.timeout(300) }))).kind).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(5000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect((await hostError(call(s, 'shell', { cmd: 'sleep 20' }, { signal: ac.signal }))).kind).toBe('cancelled');
    expect(await call(s, 'ping')).toBe('pong');
  });
});

describe('fact parsers (busybox and older kernels)', () => {
  it('parses ip -o addr, hostname -I and fib_trie', () => {
    expect(
      parseIpFacts('#@ip\n2: eth0    inet 10.1.2.3/24 brd 10.1.2.255 scope global eth0\\       valid_lft forever\n#@hostnameI\n#@fib\n'),
    ).toBe('10.1.2.3');
    expect(parseIpFacts('#@ip\n#@hostnameI\n127.0.0.1 172.17.0.5 \n#@fib\n')).toBe('172.17.0.5');
    const fib = 'Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 172.18.0.2\n        /32 host LOCAL\n';
    expect(parseIpFacts(`#@ip\n#@hostnameI\n#@fib\n${fib}`)).toBe('172.18.0.2');
    expect(parseIpFacts('#@ip\n#@hostnameI\n#@fib\n')).toBeNull();
  });

  it('parses os-release, or falls back to uname without one', () => {
    expect(
      parseOsFacts('#@release\nID=alpine\nVERSION_ID="3.20.1"\nPRETTY_NAME="Alpine Linux v3.20"\n#@uname\nLinux\n6.1.0\nx86_64\n'),
    ).toEqual({
      id: 'alpine',
      version: '3.20.1',
      name: 'Alpine Linux v3.20',
      kernel: '6.1.0',
      arch: 'x86_64',
    });
    expect(parseOsFacts('#@release\n#@uname\nLinux\n6.1.0\naarch64\n')).toEqual({
      id: 'linux',
      version: null,
      name: null,
      kernel: '6.1.0',
      arch: 'aarch64',
    });
  });

  it('parses cpuinfo on x86 and on ARM', () => {
    expect(parseCpuFacts('#@cpuinfo\nprocessor\t: 0\nmodel name\t: Intel X\nprocessor\t: 1\nmodel name\t: Intel X\n#@online\n2\n')).toEqual(
      { count: 2, model: 'Intel X' },
    );
    expect(parseCpuFacts('#@cpuinfo\nprocessor : 0\nBogoMIPS : 50\n#@online\n4\n')).toEqual({ count: 1, model: null });
    expect(parseCpuFacts('#@cpuinfo\n#@online\n4\n')).toEqual({ count: 4, model: null });
  });

  it('parses meminfo with and without MemAvailable', () => {
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 500 kB\n')).toEqual({
      total_bytes: 1024000,
      available_bytes: 512000,
    });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 40 kB\n')).toEqual({
      total_bytes: 1024000,
      available_bytes: 153600,
    });
  });

  it('parses df -Pk with spaces in the mount point', () => {
    expect(
      parseDf('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 40 60 40% /mnt/my disk\n', '/mnt/my disk'),
    ).toEqual({
      path: '/mnt/my disk',
      filesystem: '/dev/sda1',
      mount: '/mnt/my disk',
      total_bytes: 102400,
      used_bytes: 40960,
      available_bytes: 61440,
    });
  });
});
