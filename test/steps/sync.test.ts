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
import { execFileSync } from 'node:child_process';
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
  it('a relative `to` in the folder / is /rel in remote_path, not //rel', async () => {
    files(dir, { 'site/index.html': 'hi\n' });
    const text = `version: 1
hosts: { a: { transport: local, cwd: / } }
steps:
  - sync: site
    to: "${dir.slice(1)}/www"
`;
    const r = await run(dir, text);
    expect(values(r.steps[0]!).a).toMatchObject({ remote_path: `${dir}/www`, changed: true });
  });

  it('a relative `to` named like an option ("-www") is listed as a folder: the second run sends nothing', async () => {
    files(dir, { 'site/index.html': 'hi\n' });
    const text = `version: 1
hosts: { a: { transport: local, cwd: "${dir}" } }
steps:
  - sync: site
    to: "-www"
`;
    const first = await run(dir, text);
    expect(values(first.steps[0]!).a).toMatchObject({ remote_path: `${dir}/-www`, changed: true });
    expect(readFileSync(join(dir, '-www/index.html'), 'utf8')).toBe('hi\n');
    const again = await run(dir, text);
    expect(values(again.steps[0]!).a).toMatchObject({ changed_files: [], changed: false });
  });

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

  it('a remote path of the other kind (folder where a file goes, file or link where a folder goes) fails, in check too, unless delete: true replaces it', async () => {
    files(dir, {
      'site/conf': 'local file',
      'site/lib/x.js': 'x',
      'site/keep/y': 'y',
      'out/a/www/conf/old.txt': 'remote folder where a file goes',
      'out/a/www/lib': 'remote file where a folder goes',
      'elsewhere/z': 'outside',
    });
    // A link where a folder goes would have files written through it, outside `to`.
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'out/a/www/keep'));
    const text = pb(dir, '    on: a\n');
    for (const check of [true, false]) {
      const r = await run(dir, text, { check });
      const v = values(r.steps[0]!).a as { error: string; msg: string };
      expect(v.error).toBe('failed');
      expect(v.msg).toContain(`${dir}/out/a/www/conf is a folder on the host, a file in`);
      expect(v.msg).toContain(`${dir}/out/a/www/lib is a file on the host, a folder in`);
      expect(v.msg).toContain('set delete: true');
    }
    expect(readFileSync(join(dir, 'out/a/www/lib'), 'utf8')).toBe('remote file where a folder goes');
    expect(existsSync(join(dir, 'out/a/www/conf/old.txt'))).toBe(true);

    const check = await run(dir, pb(dir, '    on: a\n    delete: true\n'), { check: true });
    expect(values(check.steps[0]!).a).toMatchObject({
      changed_files: ['conf', 'keep/y', 'lib/x.js'],
      deleted: ['conf/old.txt', 'keep', 'lib'],
    });
    const real = await run(dir, pb(dir, '    on: a\n    delete: true\n'));
    expect(values(real.steps[0]!).a).toMatchObject({
      changed_files: ['conf', 'keep/y', 'lib/x.js'],
      deleted: ['conf/old.txt', 'keep', 'lib'],
    });
    expect(readFileSync(join(dir, 'out/a/www/conf'), 'utf8')).toBe('local file');
    expect(readFileSync(join(dir, 'out/a/www/lib/x.js'), 'utf8')).toBe('x');
    expect(lstatSync(join(dir, 'out/a/www/keep')).isDirectory()).toBe(true);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual(['z']);
    const again = await run(dir, pb(dir, '    on: a\n    delete: true\n'));
    expect(values(again.steps[0]!).a).toMatchObject({ changed: false });
  });

  it('a `to` under a file where a folder should be fails in check as in the run, and changes nothing', async () => {
    files(dir, { 'site/index.html': 'x\n', 'out/a': 'a file', 'out/b': 'a file' });
    for (const check of [true, false]) {
      const r = await run(dir, pb(dir), { check });
      for (const h of ['a', 'b'])
        expect(values(r.steps[0]!)[h], String(check)).toEqual({
          error: 'failed',
          msg: `${h}: sync into ${dir}/out/${h}/www: ${dir}/out/${h}: Not a directory (nothing was changed)`,
        });
    }
    expect(readFileSync(join(dir, 'out/a'), 'utf8')).toBe('a file');
  });

  it('delete: true does not replace a folder holding excluded files', async () => {
    files(dir, { 'site/conf': 'local file', 'out/a/www/conf/cache.tmp': 'kept' });
    const r = await run(dir, pb(dir, '    on: a\n    delete: true\n    exclude: ["*.tmp"]\n'));
    expect((values(r.steps[0]!).a as { msg: string }).msg).toContain('holds excluded files (conf/cache.tmp)');
    expect(readFileSync(join(dir, 'out/a/www/conf/cache.tmp'), 'utf8')).toBe('kept');
  });

  // root writes anywhere: the sync runs as another user on a local host (become), so it needs root.
  it.skipIf(process.getuid?.() !== 0)(
    'a folder it cannot write in is found before anything changes: no file of the tree is replaced',
    async () => {
      files(dir, { 'site/a.txt': 'new a', 'site/sub/b.txt': 'new b', 'out/www/a.txt': 'old a', 'out/www/sub/b.txt': 'old b' });
      chmodSync(dir, 0o755);
      execFileSync('chown', ['-R', 'nobody', join(dir, 'out')]);
      execFileSync('chown', ['root', join(dir, 'out/www/sub')]);
      const text = `version: 1\nhosts: { a: { transport: local, become: nobody } }\nsteps:\n  - sync: site\n    to: "${dir}/out/www"\n`;
      const r = await run(dir, text);
      const v = values(r.steps[0]!).a as { error: string; msg: string };
      expect(v.error).toBe('permission_denied');
      expect(v.msg).toContain(`${dir}/out/www/sub: Permission denied (nothing was changed)`);
      expect(readFileSync(join(dir, 'out/www/a.txt'), 'utf8')).toBe('old a');
      expect(readdirSync(join(dir, 'out/www')).sort()).toEqual(['a.txt', 'sub']);
    },
  );

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
