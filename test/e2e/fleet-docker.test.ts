/**
 * Fleets of docker hosts on a real engine (docs/language.md#fleets-and-reuse): a host range
 * naming its containers with `{host}`, the engine from `host_defaults`, `group_vars` with their
 * precedence, and steps from an `include:` file. Each container holds a marker with its host's
 * name, so a result proves which container a host ran in.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDockerEndpoint } from '../../src/transports/docker/endpoint.js';
import { describeIntegration } from '../support/integration.js';
import { dockerUnavailableReason, ensureTestImage, removeAllTestContainers, startTestContainer } from '../support/docker.js';
import { ensureBuilt, explain, isolatedEnv, runCli, runPlaybook, tempDir, writePlaybook } from './cli.js';

const run = promisify(execFile);
const reason = await dockerUnavailableReason();

describeIntegration('e2e: a fleet of docker hosts', reason, () => {
  // Digits only: hex could hold a host's name ("c2a5f4"), and the plan folds names into {host}.
  const prefix = `chopsticks-fleet-${process.pid}-${randomBytes(3).readUIntBE(0, 3)}`;
  let dir: string;
  let pb: string;
  // The engine comes from host_defaults only: the CLI runs without DOCKER_HOST.
  const env = isolatedEnv();
  delete env.DOCKER_HOST;

  beforeAll(async () => {
    ensureBuilt();
    await ensureTestImage();
    for (const h of ['c1', 'c2', 'c3']) {
      await startTestContainer(`${prefix}-${h}`);
      await run('docker', ['exec', `${prefix}-${h}`, 'sh', '-c', `echo ${h} > /marker`]);
    }
    const parsed = parseDockerEndpoint(undefined);
    if (!parsed.ok) throw new Error(parsed.message);
    dir = tempDir();
    writePlaybook(
      dir,
      `# Included with vars: {site: shop}; its own vars are defaults (the playbook's color wins).
vars: { site: default-site, color: blue }
steps:
  - name: who am i
    call: shell
    args: { cmd: 'echo "$(cat /marker) {hostvars.me} {hostvars.role} {hostvars.zone} {hostvars.tier} {hostvars.label} {hostvars.greet} {vars.site} {vars.color}"' }
  - name: not the canary
    on: all - canary
    call: command
    args: { argv: [cat, /marker] }
`,
      'steps/report.yaml',
    );
    pb = writePlaybook(
      dir,
      `version: 1
vars: { site: main, color: red }
host_defaults:
  docker: { docker_host: "${parsed.endpoint.url}" }
  vars: { role: none, tier: default, zone: nowhere, label: "box-{host}" }
hosts:
  c[1-3]: { transport: docker, container: "${prefix}-{host}", vars: { me: "{host}", tier: own } }
groups:
  web: ['c*']
  canary: [c1]
group_vars:
  all: { zone: z-all, role: all, greet: "hi-{host}" }
  web: { role: web, zone: z-web }
  canary: { role: canary }
steps:
  - include: steps/report.yaml
    name: fleet
    on: web
    vars: { site: shop }
  - name: everywhere
    call: command
    args: { argv: [cat, /marker] }
    register: marker
`,
    );
  }, 120_000);
  afterAll(async () => {
    await removeAllTestContainers();
  });

  it('each host runs in its own container and sees its vars with their precedence', async () => {
    const r = await runPlaybook(pb, [], { env, timeoutMs: 120_000 });
    expect(r.code, explain(r)).toBe(0);
    const [who, notCanary, everywhere] = r.report!.steps;
    const stdout = (step: typeof who): Record<string, string> =>
      Object.fromEntries(Object.entries(step!.results).map(([h, v]) => [h, v.ok ? (v.value as { stdout: string }).stdout : v.error.msg]));
    // own vars > group_vars (canary after web) > group_vars.all > host_defaults; include vars > the
    // playbook's vars > the file's defaults.
    expect(stdout(who)).toEqual({
      c1: 'c1 c1 canary z-web own box-c1 hi-c1 shop red\n',
      c2: 'c2 c2 web z-web own box-c2 hi-c2 shop red\n',
      c3: 'c3 c3 web z-web own box-c3 hi-c3 shop red\n',
    });
    expect(who!.name).toBe('fleet: who am i');
    // The include's `on: web` intersected with the step's own `on`.
    expect(notCanary!.targets).toEqual(['c2', 'c3']);
    expect(stdout(notCanary)).toEqual({ c2: 'c2\n', c3: 'c3\n' });
    expect(stdout(everywhere)).toEqual({ c1: 'c1\n', c2: 'c2\n', c3: 'c3\n' });
  }, 150_000);

  it('plan folds the range back and says where each field and var came from', async () => {
    const text = await runCli(['plan', pb], { cwd: dir, env, report: false });
    expect(text.code, explain(text)).toBe(0);
    const hosts = text.stdout.slice(text.stdout.indexOf('Hosts (3):'), text.stdout.indexOf('Groups:'));
    // c1 differs (canary), c2 and c3 fold with {host} back in the container's name.
    expect(hosts).toMatch(new RegExp(`^  c1 +docker container ${prefix}-c1 on `, 'm'));
    expect(hosts).toMatch(new RegExp(`^  c\\[2-3\\] +docker container ${prefix}-\\{host\\} on `, 'm'));
    expect(hosts).toContain('role="canary" (group_vars.canary)');
    expect(hosts).toContain('role="web" (group_vars.web)');
    expect(text.stdout).toMatch(/^ {2}web +c\[1-3\]$/m);
    expect(text.stdout).toMatch(/from +\S*steps\/report\.yaml:4$/m);

    const json = await runCli(['plan', pb, '--json'], { cwd: dir, env, report: false });
    expect(json.code, explain(json)).toBe(0);
    const plan = JSON.parse(json.stdout) as {
      hosts: Array<{
        name: string;
        container?: string;
        docker_host?: string;
        vars: Record<string, unknown>;
        sources?: Record<string, string>;
      }>;
      steps: Array<{ name: string; hosts: string[]; origin?: string }>;
    };
    expect(plan.hosts.map((h) => [h.name, h.container])).toEqual([
      ['c1', `${prefix}-c1`],
      ['c2', `${prefix}-c2`],
      ['c3', `${prefix}-c3`],
    ]);
    const c1 = plan.hosts[0]!;
    expect(c1.vars).toMatchObject({ me: 'c1', tier: 'own', role: 'canary', zone: 'z-web', label: 'box-c1', greet: 'hi-c1' });
    expect(c1.sources).toMatchObject({
      container: 'host',
      docker_host: 'host_defaults',
      'vars.me': 'host',
      'vars.tier': 'host',
      'vars.role': 'group_vars.canary',
      'vars.zone': 'group_vars.web',
      'vars.greet': 'group_vars.all',
      'vars.label': 'host_defaults',
    });
    expect(plan.steps.map((s) => [s.name, s.hosts])).toEqual([
      ['fleet: who am i', ['c1', 'c2', 'c3']],
      ['fleet: not the canary', ['c2', 'c3']],
      ['everywhere', ['c1', 'c2', 'c3']],
    ]);
    // Relative to where plan runs (the playbook's folder here).
    expect(plan.steps.map((s) => s.origin)).toEqual(['steps/report.yaml:4', 'steps/report.yaml:7', undefined]);
  }, 60_000);
});
