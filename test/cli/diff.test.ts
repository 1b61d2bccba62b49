/** `run --diff` (docs/cli.md#diffs): per-host unified diffs of what put changes, in output and report. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

function setup(d: string): string {
  writeFileSync(join(d, 'app.conf'), 'port = 8080\nhost = example\n');
  // a: an older version; b: nothing yet; c: the same already; bin: binary on the host.
  for (const h of ['a', 'c', 'bin']) mkdirSync(join(d, 'srv', h), { recursive: true });
  writeFileSync(join(d, 'srv', 'a', 'app.conf'), 'port = 80\nhost = example\n');
  writeFileSync(join(d, 'srv', 'c', 'app.conf'), 'port = 8080\nhost = example\n');
  writeFileSync(join(d, 'srv', 'bin', 'app.conf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 0xff]));
  return writePlaybook(
    d,
    `version: 1
hosts:
  a: local
  b: local
  c: local
  bin: local
steps:
  - put: app.conf
    to: "${d}/srv/{host}/app.conf"
`,
  );
}

describe('run --diff', () => {
  for (const check of [true, false]) {
    it(`shows and reports a unified diff per host for put${check ? ' with --check' : ''}`, async () => {
      dir = tempDir();
      const pb = setup(dir);
      const r = await runCli(['run', pb, '--diff', ...(check ? ['--check'] : []), '--json', join(dir, 'r.json'), '--output', 'plain']);
      expect(r.code, r.stderr).toBe(0);
      const res = parseReport(readFileSync(join(dir, 'r.json'), 'utf8')).steps[0]!.results;
      const diffOf = (h: string) => {
        const x = res[h]!;
        return x.ok ? (x.value as { diff?: string }).diff : undefined;
      };
      const pa = join(dir, 'srv', 'a', 'app.conf');
      expect(diffOf('a')).toBe(`--- a${pa}\n+++ b${pa}\n@@ -1,2 +1,2 @@\n-port = 80\n+port = 8080\n host = example\n`);
      expect(diffOf('b')).toMatch(/^--- \/dev\/null\n\+\+\+ b.*\/srv\/b\/app.conf\n@@ -0,0 \+1,2 @@\n\+port = 8080\n\+host = example\n$/);
      expect(diffOf('c')).toBeUndefined();
      expect(diffOf('bin')).toMatch(/^Binary files .* differ\n$/);
      // Plain output prints each diff under its host.
      expect(r.stdout).toContain(`  a: diff\n    --- a${pa}\n    +++ b${pa}\n    @@ -1,2 +1,2 @@\n    -port = 80\n    +port = 8080\n`);
      expect(readFileSync(pa, 'utf8')).toBe(check ? 'port = 80\nhost = example\n' : 'port = 8080\nhost = example\n');
    });
  }

  it('a loop step shows the diff of each item', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'app.conf.j2'), 'name={{ item }}\n');
    mkdirSync(join(dir, 'srv'));
    for (const n of ['one', 'two']) writeFileSync(join(dir, 'srv', `${n}.conf`), 'name=old\n');
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts: { a: local }\nsteps:\n  - template: app.conf.j2\n    to: "${dir}/srv/{item}.conf"\n    loop: [one, two]\n`,
    );
    const r = await runCli(['run', pb, '--diff', '--check', '--output', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  a: diff\n');
    for (const n of ['one', 'two'])
      expect(r.stdout).toMatch(new RegExp(`\\+\\+\\+ b${dir}/srv/${n}\\.conf\\n.*\\n\\s+-name=old\\n\\s+\\+name=${n}\\n`));
  });

  it('a mode-only change is a line of the diff for put, template and sync (it has no text diff)', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'app.conf'), 'same\n');
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'index.html'), 'same\n');
    mkdirSync(join(dir, 'srv', 'www'), { recursive: true });
    for (const f of ['put.conf', 'tpl.conf', 'www/index.html']) writeFileSync(join(dir, 'srv', f), 'same\n', { mode: 0o600 });
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - put: app.conf
    to: "${dir}/srv/put.conf"
  - template: app.conf
    to: "${dir}/srv/tpl.conf"
  - sync: site
    to: "${dir}/srv/www"
    mode: "0640"
`,
    );
    const r = await runCli(['run', pb, '--diff', '--check', '--json', join(dir, 'r.json'), '--output', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    const diffs = parseReport(readFileSync(join(dir, 'r.json'), 'utf8')).steps.map((s) => {
      const x = s.results.a!;
      return x.ok ? (x.value as { diff?: string }).diff : undefined;
    });
    expect(diffs).toEqual([
      `mode of ${dir}/srv/put.conf: 0600 → 0644\n`,
      `mode of ${dir}/srv/tpl.conf: 0600 → 0644\n`,
      `mode of ${dir}/srv/www/index.html: 0600 → 0640\n`,
    ]);
  });

  it('without --diff, no diff is read or reported', async () => {
    dir = tempDir();
    const pb = setup(dir);
    const r = await runCli(['run', pb, '--check', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('"diff"');
  });
});
