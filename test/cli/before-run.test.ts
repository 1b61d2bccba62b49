/**
 * Mistakes found before the run (docs/cli.md): unknown --var names, a --limit that selects no
 * host, unknown flags, per-command --help, and an unquoted template that breaks the YAML.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const PB = `version: 1
vars:
  release: "1.0"
hosts:
  web1: local
  web2: local
  db1: local
groups:
  web: [web1, web2]
  db: [db1]
steps:
  - call: command
    args: { argv: [echo, "{vars.release}", "{vars.channel}"] }
`;

describe('mistakes found before the run', () => {
  it('an unknown --var name is a warning naming the closest variable; a var the playbook reads is known', async () => {
    dir = tempDir();
    // `channel` is not declared but the playbook reads it: a --var for it is expected.
    const pb = writePlaybook(dir, PB);
    const r = await runCli(['plan', pb, '--var', 'relaese=2.0', '--var', 'channel=beta']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: --var relaese: the playbook has no variable 'relaese'; did you mean 'release'\?/);
    expect(r.stderr).not.toMatch(/channel/);
    const run = await runCli(['run', pb, '--var', 'zzz=1', '--var', 'channel=beta', '--output', 'quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: --var zzz: the playbook has no variable 'zzz'/);
  });

  it('a --var declared in a vars file or an include, or read only by a template file, is no typo', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'roles'));
    writeFileSync(join(dir, 'common.yaml'), 'tier: web\n');
    writeFileSync(join(dir, 'roles', 'r.yaml'), 'vars: { site: x }\nsteps:\n  - call: ping\n');
    writeFileSync(join(dir, 'app.conf.j2'), 'port={{ vars.port }}\n');
    const pb = writePlaybook(
      dir,
      `version: 1\nvars_files: [common.yaml]\nhosts: { a: local }\nsteps:\n  - include: roles/r.yaml\n    vars: { flavour: y }\n  - template: app.conf.j2\n    to: ${dir}/out.conf\n`,
    );
    const r = await runCli(['plan', pb, ...['tier', 'site', 'flavour', 'port', 'prot'].flatMap((k) => ['--var', `${k}=1`])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/warning: --var \w+/g)).toEqual(['warning: --var prot']);
    expect(r.stderr).toContain("did you mean 'port'?");
  });

  it('a --limit that selects no host exits 5 and says so', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, PB.replace('"{vars.channel}"', 'x'));
    for (const cmd of ['run', 'plan']) {
      const r = await runCli([cmd, pb, '--limit', 'web & db']);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain("--limit 'web & db' selects no host");
    }
  });

  it('an unknown flag gets a did-you-mean', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, PB);
    const r = await runCli(['run', pb, '--lmit', 'web']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/run: unknown option '--lmit'; did you mean '--limit'\?/);
  });

  it("CMD --help lists that command's flags, one line each", async () => {
    const run = await runCli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: chopsticks run PLAYBOOK/);
    for (const flag of ['--check', '--limit EXPR', '--json FILE|-', '--resume REPORT', '--output MODE', '--concurrency N']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${flag.replace(/[-|]/g, '\\$&')}[ ,].*\\S$`, 'm'));
    }
    const validate = await runCli(['validate', '--help']);
    expect(validate.stdout).toMatch(/^Usage: chopsticks validate PLAYBOOK/);
    expect(validate.stdout).toMatch(/--inventory FILE/);
    expect(validate.stdout).not.toMatch(/--check/);
    // Every flag of every command has its line, in that command's meaning.
    for (const cmd of ['run', 'plan', 'validate', 'hosts', 'exec', 'report', 'cleanup', 'schema']) {
      const help = await runCli([cmd, '--help']);
      expect(help.code, cmd).toBe(0);
      for (const row of help.stdout.split('\n').filter((l) => l.startsWith('  --'))) expect(row, `${cmd}: ${row}`).toMatch(/\S {2,}\S/);
    }
    const exec = await runCli(['exec', '--help']);
    expect(exec.stdout).toMatch(/^Usage: chopsticks exec FILE EXPR/);
    expect((await runCli(['report', '--help'])).stdout).toMatch(/^ {2}--output FILE, -o +write to FILE/m);
  });

  it('a YAML error from an unquoted template says to quote it', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'files'));
    const pb = writePlaybook(
      dir,
      'version: 1\nvars: { base: /srv }\nhosts: { a: local }\nsteps:\n  - put: files/x\n    to: {vars.base}/x\n',
    );
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('to use a template, quote the value: to: "{vars.base}/x"');
    expect(r.stderr).toMatch(/playbook\.yaml:6:\d+: /);
  });
});
