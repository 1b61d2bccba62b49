/**
 * Fleets over a real sshd (docs/language.md#fleets-and-reuse): a host range whose ssh settings
 * come from host_defaults, group_vars reaching templates, a secret through a shell command's
 * environment, and `chopsticks exec` on the same hosts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIntegration } from '../support/integration.js';
import { startSshd, sshdUnavailableReason, type SshdHandle } from '../support/sshd.js';
import { ensureBuilt, explain, runCli, runPlaybook, tempDir, writePlaybook } from './cli.js';

describeIntegration('e2e: fleets over real sshd', sshdUnavailableReason(), () => {
  let sshd: SshdHandle;
  let dir: string;
  let pb: string;

  beforeAll(async () => {
    ensureBuilt();
    sshd = await startSshd({ addresses: ['127.0.0.1'] });
    dir = tempDir();
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `${sshd.knownHostsLine(`[127.0.0.1]:${sshd.port}`)}\n`);
    pb = writePlaybook(
      dir,
      `version: 1
x-ssh: &ssh { port: ${sshd.port}, user: ${sshd.user}, identity_file: ${sshd.identityFile}, known_hosts: ${known} }
secrets:
  token: { env: FLEET_TEST_TOKEN }
host_defaults:
  ssh: { <<: *ssh, connect_timeout: 20s }
  vars: { role: none }
hosts:
  web[01-03]: { transport: ssh, host: 127.0.0.1, vars: { me: "{host}" } }
groups:
  web: ['web*']
  canary: [web01]
group_vars:
  web: { role: web }
  canary: { role: canary }
steps:
  - call: shell
    args: { cmd: 'echo "{hostvars.me} {hostvars.role} {secrets.token}"' }
`,
    );
  });
  afterAll(async () => {
    await (sshd as SshdHandle | undefined)?.stop();
  });

  it('a range with host_defaults and group_vars runs on every expanded host; the secret is masked', async () => {
    const r = await runPlaybook(pb, [], { env: { ...process.env, FLEET_TEST_TOKEN: 'fleet-s3cret-991' }, timeoutMs: 120_000 });
    expect(r.code, explain(r)).toBe(0);
    const results = r.report!.steps[0]!.results;
    const out = Object.fromEntries(
      Object.entries(results).map(([h, v]) => [h, v.ok ? (v.value as { stdout: string }).stdout : v.error.msg]),
    );
    expect(out).toEqual({ web01: 'web01 canary ***\n', web02: 'web02 web ***\n', web03: 'web03 web ***\n' });
    expect(r.stdout + r.stderr + JSON.stringify(r.report)).not.toContain('fleet-s3cret-991');
  }, 150_000);

  it('exec on the playbook hosts an expression selects', async () => {
    const r = await runCli(['exec', pb, 'web - canary', '--shell', 'echo $USER'], { cwd: dir, report: true, timeoutMs: 120_000 });
    expect(r.code, explain(r)).toBe(0);
    expect(Object.keys(r.report!.hosts)).toEqual(['web02', 'web03']);
    expect(r.stdout).toContain(sshd.user);
  }, 150_000);
});
