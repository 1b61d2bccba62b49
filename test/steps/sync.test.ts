/** sync over local hosts: first copy, unchanged, changed file and mode, delete with exclude, links, check mode. */
import {
  readdirSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, files, problems, run, tempDir, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const pb = (d: string, extra = '') => `version: 1
hosts: { a: local, b: local }
steps:
  - sync: site
    to: "${d}/out/{host}/www"
${extra}`;

interface V {
  changed_files: string[];
  deleted: string[];
  bytes_sent: number;
  files: number;
  changed: boolean;
  remote_path: string;
}

describe('sync', () => {
  it('copies the tree, then sends nothing; a changed file or mode is sent again; check mode says what would change', async () => {
    files(dir, { 'site/index.html': '<h1>hi</h1>\n', 'site/css/a.css': 'body{}\n', 'site/deep/er/x.txt': 'x' });
    symlinkSync('index.html', join(dir, 'site/home.html'));
    const check = await run(dir, pb(dir), { check: true });
    expect((values(check.steps[0]!).a as V).changed_files).toEqual(['css/a.css', 'deep/er/x.txt', 'home.html', 'index.html']);
    expect(existsSync(join(dir, 'out'))).toBe(false);

    const first = await run(dir, pb(dir));
    const v = values(first.steps[0]!).a as V;
    expect(v).toMatchObject({ remote_path: `${dir}/out/a/www`, files: 4, deleted: [], changed: true, bytes_sent: 12 + 7 + 1 });
    expect(readFileSync(join(dir, 'out/b/www/deep/er/x.txt'), 'utf8')).toBe('x');
    expect(readlinkSync(join(dir, 'out/a/www/home.html'))).toBe('index.html');

    const again = await run(dir, pb(dir));
    expect(values(again.steps[0]!).a).toMatchObject({ changed_files: [], bytes_sent: 0, changed: false });
    expect(again.steps[0]!.results.a).toMatchObject({ changed: false });

    writeFileSync(join(dir, 'site/css/a.css'), 'body{color:red}\n');
    chmodSync(join(dir, 'site/index.html'), 0o600);
    const diffCheck = await run(dir, pb(dir), { check: true, diff: true });
    const dv = values(diffCheck.steps[0]!).a as V & { diff: string };
    expect(dv.changed_files).toEqual(['css/a.css', 'index.html']);
    expect(dv.diff).toContain('-body{}\n+body{color:red}');
    const third = await run(dir, pb(dir));
    expect((values(third.steps[0]!).a as V).changed_files).toEqual(['css/a.css', 'index.html']);
    expect(statSync(join(dir, 'out/a/www/index.html')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'out/a/www/css/a.css'), 'utf8')).toBe('body{color:red}\n');
    // Nothing of the staging folder is left behind.
    expect(readFileSync(join(dir, 'out/a/www/index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
    expect(existsSync(join(dir, 'out/a/www')) && !require_any_stage(join(dir, 'out/a/www'))).toBe(true);
  });

  it('delete: true removes remote files not in the tree, never excluded ones; mode sets every file', async () => {
    files(dir, {
      'site/a.txt': 'a',
      'site/skip.tmp': 'local tmp',
      'out/a/www/stale.txt': 'old',
      'out/a/www/keep.tmp': 'remote tmp',
      'out/a/www/sub/old': 'o',
    });
    const r = await run(dir, pb(dir, '    delete: true\n    exclude: ["*.tmp"]\n    mode: "0640"\n    on: a\n'));
    expect(values(r.steps[0]!).a).toMatchObject({ changed_files: ['a.txt'], deleted: ['stale.txt', 'sub/old'], files: 1 });
    expect(existsSync(join(dir, 'out/a/www/stale.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'out/a/www/keep.tmp'), 'utf8')).toBe('remote tmp');
    expect(existsSync(join(dir, 'out/a/www/skip.tmp'))).toBe(false);
    expect(lstatSync(join(dir, 'out/a/www/a.txt')).mode & 0o777).toBe(0o640);
  });

  it('remote_path is absolute when to is relative (the host side folder, as put gives)', async () => {
    files(dir, { 'site/index.html': 'x' });
    mkdirSync(join(dir, 'home'));
    const text = `version: 1\nhosts: { a: { transport: local, cwd: "${dir}/home" } }\nsteps:\n  - sync: site\n    to: www\n`;
    const r = await run(dir, text);
    expect((values(r.steps[0]!).a as V).remote_path).toBe(`${dir}/home/www`);
    expect(existsSync(join(dir, 'home/www/index.html'))).toBe(true);
  });

  it('refuses a symlink that leaves the tree, before sending anything', async () => {
    files(dir, { 'site/a.txt': 'a' });
    symlinkSync('/etc/passwd', join(dir, 'site/pw'));
    const r = await run(dir, pb(dir));
    expect(values(r.steps[0]!).a).toMatchObject({ error: 'failed' });
    expect(existsSync(join(dir, 'out/a/www/a.txt'))).toBe(false);
  });

  it('validation: the source must be a folder', async () => {
    files(dir, { 'one.txt': 'x' });
    mkdirSync(join(dir, 'site'));
    const p = await problems(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - sync: nothere
    to: /tmp/x
  - sync: one.txt
    to: /tmp/x
`,
    );
    expect(p[0]).toMatch(/^pb\.yaml:4:\d+: sync: nothere does not exist/);
    expect(p[1]).toMatch(/^pb\.yaml:6:\d+: sync: one\.txt is not a folder/);
  });
});

function require_any_stage(folder: string): boolean {
  return readdirSync(folder).some((n) => n.startsWith('.chopsticks-sync'));
}
