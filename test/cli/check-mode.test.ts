/**
 * `run --check` outcomes (docs/language.md#check-mode): ok, would_change, unknown, failed, skipped per
 * host, and a check run that exits 0 unless a host really failed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

/** A first deploy: upload, unpack (mutating), health check that needs the unpacked files. */
function firstDeploy(d: string, extraSteps = ''): string {
  mkdirSync(join(d, 'build', 'app'), { recursive: true });
  writeFileSync(join(d, 'build', 'app', 'status'), 'healthy\n');
  execFileSync('tar', ['-cf', join(d, 'app.tar'), '-C', join(d, 'build'), 'app']);
  return writePlaybook(
    d,
    `version: 1
vars:
  base: ${d}/srv
hosts:
  a: local
  b: local
  c: local
steps:
  - put: app.tar
    to: "{vars.base}/{host}/"
    register: upload
  - call: command
    name: unpack
    args: { argv: [tar, -xf, "{vars.base}/{host}/app.tar", -C, "{vars.base}/{host}"] }
    register: unpack
  - call: test
    name: health
    args: { cmd: "grep -q healthy {vars.base}/{host}/app/status" }
    register: health
${extraSteps}`,
  );
}

describe('run --check', () => {
  it('a first deploy: exits 0, says what would change per host, and the health check is unknown, not failed', async () => {
    dir = tempDir();
    const pb = firstDeploy(dir);
    const r = await runCli(['run', pb, '--check', '--json', join(dir, 'report.json'), '--output', 'plain']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(dir, 'srv'))).toBe(false);
    const rep = parseReport(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(rep.status).toBe('ok');
    const [upload, unpack, health] = rep.steps;
    for (const h of ['a', 'b', 'c']) {
      expect(upload!.results[h]).toMatchObject({
        ok: true,
        changed: true,
        outcome: 'would_change',
        value: { remote_path: join(dir, 'srv', h, 'app.tar') },
      });
      // Not run (skipped), unlike the put, which looked at the host and found it would change it.
      expect(unpack!.results[h]).toMatchObject({ ok: true, changed: true, outcome: 'would_change', skipped: true });
      expect(upload!.results[h]).not.toHaveProperty('skipped');
      expect(JSON.stringify(unpack!.results[h])).toContain(join(dir, 'srv', h, 'app.tar'));
      expect(health!.results[h]).toMatchObject({ ok: false, outcome: 'unknown' });
    }
    expect(rep.hosts).toEqual({ a: 'ok', b: 'ok', c: 'ok' });
    expect(health!.status).toBe('ok');
    for (const h of ['a', 'b', 'c']) {
      expect(r.stdout).toContain(`would change ${h}: {"args":{"argv":["tar","-xf","${join(dir, 'srv', h, 'app.tar')}"`);
      expect(r.stdout).toMatch(new RegExp(`unknown ${h} \\(may depend on a change not made\\): failed: ${h}: test .* exited 2`));
    }
    expect(r.stdout).not.toMatch(/FAILED/);
    expect(r.stdout).toMatch(/check ok/);
  });

  it('a read-only step failing on a host with nothing to change is a failure (exit 2)', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts:
  a: local
  b: local
steps:
  - call: test
    args: { cmd: "exit {hostvars.code}" }
`.replace('{hostvars.code}', '3'),
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    expect(rep.steps[0]!.results.a).toMatchObject({ ok: false, outcome: 'failed' });
  });

  it('put and template under a file where a folder should be fail in check, as the run does; a missing folder would be made', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'afile'), 'x');
    writeFileSync(join(dir, 'src.txt'), 'hello\n');
    writeFileSync(join(dir, 'app.j2'), 'n={{ vars.n }}\n');
    const pb = writePlaybook(
      dir,
      `version: 1
vars: { n: 1 }
hosts: { a: local }
defaults: { on_failure: ignore }
steps:
  - put: src.txt
    to: ${dir}/afile/sub/x.txt
  - template: app.j2
    to: ${dir}/afile/app.conf
  - put: src.txt
    to: ${dir}/new/deeper/x.txt
`,
    );
    const check = await runCli(['run', pb, '--check', '--json', '-']);
    const rep = parseReport(check.stdout);
    for (const i of [0, 1]) {
      expect(rep.steps[i]!.results.a).toMatchObject({ ok: false, outcome: 'failed' });
      expect(JSON.stringify(rep.steps[i]!.results.a)).toContain(`${dir}/afile: Not a directory`);
    }
    expect(rep.steps[2]!.results.a).toMatchObject({ ok: true, outcome: 'would_change' });
    const run = parseReport((await runCli(['run', pb, '--json', '-'])).stdout);
    expect([0, 1, 2].map((i) => run.steps[i]!.results.a!.ok)).toEqual([false, false, true]);
  });

  it('a step that changes hosts failing after a would_change is failed, not unknown: the real run would fail too', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'bad.j2'), 'port={{ vars.prot }}\n');
    const pb = writePlaybook(
      dir,
      `version: 1
vars: { port: 80 }
hosts: { a: local }
steps:
  - call: file
    args: { path: ${dir}/made, state: directory }
  - template: bad.j2
    to: ${dir}/out.conf
`,
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    expect(rep.steps[0]!.results.a).toMatchObject({ ok: true, outcome: 'would_change' });
    expect(rep.steps[1]!.results.a).toMatchObject({ ok: false, outcome: 'failed' });
  });

  it('a check_mode: run step (vouched read-only) failing after a would_change is unknown, as a read-only callable is', async () => {
    dir = tempDir();
    const pb = firstDeploy(
      dir,
      `  - call: shell
    name: vouched health
    args: { cmd: "cat {vars.base}/{host}/app/status" }
    check_mode: run
`,
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    for (const h of ['a', 'b', 'c']) expect(rep.steps[3]!.results[h]).toMatchObject({ ok: false, outcome: 'unknown' });
  });

  it('line and file, whose check only reads, failing after a would_change are unknown: the put before them was not made', async () => {
    dir = tempDir();
    const pb = firstDeploy(
      dir,
      `  - call: line
    args: { path: "{vars.base}/{host}/app.tar", line: "x" }
  - call: file
    args: { path: "{vars.base}/{host}/app/status", mode: "0600" }
`,
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    for (const i of [3, 4]) expect(rep.steps[i]!.results.a).toMatchObject({ ok: false, outcome: 'unknown' });
  });

  it('check_mode: run runs a step in check mode, check_mode: skip never does; would_change counts in ok(R) and changed(R)', async () => {
    dir = tempDir();
    const pb = firstDeploy(
      dir,
      `  - call: shell
    name: vouched
    check_mode: run
    args: { cmd: "echo checked-{host}" }
  - call: shell
    name: never
    check_mode: skip
    args: { cmd: "touch ${dir}/touched-{host}" }
  - call: ping
    name: after-unpack
    on: ok(unpack) & changed(unpack)
`,
    );
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    const [, , , vouched, never, after] = rep.steps;
    expect(vouched!.results.a).toMatchObject({ ok: true, outcome: 'ok', value: { stdout: 'checked-a\n' } });
    expect(never!.results.a).toMatchObject({ ok: true, outcome: 'skipped', skipped: true });
    expect(existsSync(join(dir, 'touched-a'))).toBe(false);
    expect(after!.targets).toEqual(['a', 'b', 'c']);
    // Outside check mode, check_mode changes nothing.
    const real = await runCli(['run', pb, '--json', '-']);
    expect(real.code, real.stderr).toBe(0);
    const rr = parseReport(real.stdout);
    expect(rr.steps[2]!.results.a).toMatchObject({ ok: true, value: true });
    expect(rr.steps[2]!.results.a).not.toHaveProperty('outcome');
    expect(existsSync(join(dir, 'touched-a'))).toBe(true);
  });

  it('JUnit marks would-change and unknown hosts as skipped, with what would happen', async () => {
    dir = tempDir();
    const pb = firstDeploy(dir);
    const junit = join(dir, 'junit.xml');
    const r = await runCli(['run', pb, '--check', '--junit', junit, '--output', 'quiet']);
    expect(r.code, r.stderr).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/failures="0"/);
    expect(xml).not.toMatch(/<failure/);
    expect(xml).toMatch(/<skipped\/>\s*<system-out><!\[CDATA\[would change: /);
    expect(xml).toMatch(/<skipped\/>\s*<system-out><!\[CDATA\[unknown /);
  });
});
