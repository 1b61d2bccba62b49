/**
 * A jump host that only the bastion can reach: the bastion and the target each live in a network
 * namespace of this test; the controller's namespace has a route to the bastion only. The
 * playbook's `jump:` is the only way to the target, through the real CLI.
 *
 *   controller (root ns) 10.231.1.1 ── veth ── 10.231.1.2 bastion ns 10.231.2.1 ── veth ── 10.231.2.2 target ns
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from '../cli/helpers.js';
import { writeFileSync } from 'node:fs';

const tag = String(process.pid % 100000);
const NS_BASTION = `cs-bastion-${tag}`;
const NS_TARGET = `cs-target-${tag}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function netnsUnavailableReason(): string | undefined {
  const ssh = sshdUnavailableReason();
  if (ssh) return ssh;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'network namespaces unavailable (`ip netns` from iproute2, as root)';
  }
}

describeIntegration('ssh: a jump host that only the bastion can reach (network namespaces)', netnsUnavailableReason(), () => {
  let bastion: SshdHandle;
  let target: SshdHandle;
  let dir: string;

  beforeAll(async () => {
    ensureBuilt();
    ip('netns', 'add', NS_BASTION);
    ip('netns', 'add', NS_TARGET);
    for (const ns of [NS_BASTION, NS_TARGET]) ip('-n', ns, 'link', 'set', 'lo', 'up');
    // controller <-> bastion
    ip('link', 'add', `csb${tag}a`, 'type', 'veth', 'peer', 'name', `csb${tag}b`);
    ip('link', 'set', `csb${tag}b`, 'netns', NS_BASTION);
    ip('addr', 'add', '10.231.1.1/24', 'dev', `csb${tag}a`);
    ip('link', 'set', `csb${tag}a`, 'up');
    ip('-n', NS_BASTION, 'addr', 'add', '10.231.1.2/24', 'dev', `csb${tag}b`);
    ip('-n', NS_BASTION, 'link', 'set', `csb${tag}b`, 'up');
    // bastion <-> target. The controller's namespace gets an `unreachable` route for the target's
    // subnet: no route at all would send its packets to the default gateway, off this machine.
    ip('route', 'add', 'unreachable', '10.231.2.0/24');
    ip('-n', NS_BASTION, 'link', 'add', `cst${tag}a`, 'type', 'veth', 'peer', 'name', `cst${tag}b`);
    ip('-n', NS_BASTION, 'link', 'set', `cst${tag}b`, 'netns', NS_TARGET);
    ip('-n', NS_BASTION, 'addr', 'add', '10.231.2.1/24', 'dev', `cst${tag}a`);
    ip('-n', NS_BASTION, 'link', 'set', `cst${tag}a`, 'up');
    ip('-n', NS_TARGET, 'addr', 'add', '10.231.2.2/24', 'dev', `cst${tag}b`);
    ip('-n', NS_TARGET, 'link', 'set', `cst${tag}b`, 'up');
    [bastion, target] = await Promise.all([
      startSshd({ netns: NS_BASTION, addresses: ['10.231.1.2'] }),
      startSshd({ netns: NS_TARGET, addresses: ['10.231.2.2'] }),
    ]);
    dir = tempDir();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([(bastion as typeof bastion | undefined)?.stop(), (target as typeof target | undefined)?.stop()]);
    try {
      ip('route', 'del', 'unreachable', '10.231.2.0/24');
    } catch {
      /* never added */
    }
    for (const ns of [NS_BASTION, NS_TARGET]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* never made */
      }
    }
    if (dir) cleanup(dir);
  });

  function playbook(withJump: boolean): string {
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `${bastion.knownHostsLine()}\n${target.knownHostsLine()}\n`);
    const common = `port: 2222, user: ${bastion.user}, identity_file: ${bastion.identityFile}, known_hosts: ${known}, connect_timeout: 3s`;
    return `version: 1
hosts:
  bastion: { transport: ssh, host: 10.231.1.2, ${common} }
  target: { transport: ssh, host: 10.231.2.2, ${common}${withJump ? ', jump: bastion' : ''} }
steps:
  - call: command
    args: { argv: [sh, -c, 'ip -o -4 addr show 2>/dev/null | grep -o "10\\\\.231\\\\.[0-9.]*" || hostname -i'] }
    on: target
`;
  }

  it('without jump the target cannot be reached from the controller', async () => {
    const r = await runCli(['run', writePlaybook(dir, playbook(false), 'direct.yaml'), '--json', '-', '--output', 'quiet'], {
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(2);
    const res = parseReport(r.stdout).steps[0]!.results.target!;
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.kind).toBe('unreachable');
  });

  it('with jump: bastion the command runs on the target, through the bastion', async () => {
    const r = await runCli(['run', writePlaybook(dir, playbook(true), 'jump.yaml'), '--json', '-', '--output', 'quiet'], {
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const res = parseReport(r.stdout).steps[0]!.results.target!;
    expect(res.ok && (res.value as { stdout: string }).stdout).toContain('10.231.2.2');
  });
});
