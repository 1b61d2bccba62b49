/**
 * Declaring state over local hosts: template (rendered on the controller, put rules), file and
 * line (exact in check mode, idempotent), creates/removes/changed_when, and the --diff values.
 */
import { chmodSync, existsSync, readFileSync, statSync, lstatSync, readlinkSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editLines } from '../../src/callables/line.js';
import { unifiedDiff } from '../../src/steps/diff.js';
import { cleanup, files, problems, run, step, tempDir, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const hosts = `hosts:
  a: { transport: local, vars: { role: web } }
  b: { transport: local, vars: { role: db } }`;

describe('template', () => {
  const tpl = `# {{ host }}
port = {{ vars.port }}
{% for u in vars.users %}user {{ u }}
{% endfor %}{% if hostvars.role == "web" %}web = true
{% endif %}secret = {{ secrets.token }}
`;
  const pb = (d: string) => `version: 1
vars: { port: 8080, users: [ann, bob] }
${hosts}
steps:
  - template: tpl/app.conf.j2
    to: "${d}/out/{host}/"
    mode: "0640"
`;

  it('renders per host, writes atomically with the mode, leaves an identical file alone, and check mode says whether it would change', async () => {
    files(dir, { 'tpl/app.conf.j2': tpl });
    const secrets = { token: 's3cr3t' };
    const check = await run(dir, pb(dir), { check: true, secrets });
    expect(Object.values(check.steps[0]!.results).map((r) => r.ok && r.changed)).toEqual([true, true]);
    expect(existsSync(join(dir, 'out'))).toBe(false);

    const first = await run(dir, pb(dir), { secrets });
    expect(first.status).toBe('ok');
    expect(readFileSync(join(dir, 'out/a/app.conf'), 'utf8')).toBe('# a\nport = 8080\nuser ann\nuser bob\nweb = true\nsecret = s3cr3t\n');
    expect(readFileSync(join(dir, 'out/b/app.conf'), 'utf8')).toBe('# b\nport = 8080\nuser ann\nuser bob\nsecret = s3cr3t\n');
    expect(statSync(join(dir, 'out/a/app.conf')).mode & 0o777).toBe(0o640);
    expect(values(first.steps[0]!).a).toMatchObject({ remote_path: join(dir, 'out/a/app.conf'), changed: true });

    const again = await run(dir, pb(dir), { secrets });
    expect(Object.values(again.steps[0]!.results).map((r) => r.ok && r.changed)).toEqual([false, false]);
    const checkAgain = await run(dir, pb(dir), { check: true, secrets });
    expect(Object.values(checkAgain.steps[0]!.results).map((r) => r.ok && r.changed)).toEqual([false, false]);
  });

  it('--diff gives a unified diff of the rendered text against the remote file', async () => {
    files(dir, { 'tpl/app.conf.j2': tpl, 'out/a/app.conf': '# a\nport = 1\nuser ann\nuser bob\nweb = true\nsecret = old-token\n' });
    const r = await run(dir, pb(dir), { check: true, diff: true, secrets: { token: 'x-token-x' } });
    const diff = (values(r.steps[0]!).a as { diff: string }).diff;
    expect(diff).toContain(`--- a${join(dir, 'out/a/app.conf')}`);
    expect(diff).toContain('-port = 1\n+port = 8080');
    // The secret is masked, and so is the line it replaces (docs/language.md#secrets).
    expect(diff).toContain('-***\n+secret = ***');
    expect(diff).not.toContain('old-token');
    expect((values(r.steps[0]!).b as { diff: string }).diff).toContain('--- /dev/null');
  });

  it('a render error names the template file, line and host', async () => {
    files(dir, { 'tpl/app.conf.j2': 'line one\n{{ vars.nope }}\n' });
    const r = await run(dir, pb(dir));
    const a = r.steps[0]!.results.a!;
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.error.msg).toMatch(/^a: template tpl\/app\.conf\.j2: .*vars\.nope.*line:2/);
  });

  it('cannot reach prototypes or JS globals, and includes stay in the template folder', async () => {
    files(dir, {
      'tpl/app.conf.j2': '{{ vars.port.constructor }}',
      'tpl/inc.j2': '{% include "../secret.txt" %}',
      'tpl/ok.j2': '{% include "part.j2" %}',
      'tpl/part.j2': 'part {{ host }}',
      'secret.txt': 'outside',
    });
    const one = (t: string) => `version: 1
vars: { port: 1 }
hosts: { a: local }
steps:
  - template: tpl/${t}
    to: "${dir}/out/${t}"
`;
    const r1 = await run(dir, one('app.conf.j2'));
    expect(r1.steps[0]!.results.a!.ok).toBe(false);
    const r2 = await run(dir, one('inc.j2'));
    expect(r2.steps[0]!.results.a!.ok).toBe(false);
    expect(existsSync(join(dir, 'out/inc.j2'))).toBe(false);
    const r3 = await run(dir, one('ok.j2'));
    expect(r3.status).toBe('ok');
    expect(readFileSync(join(dir, 'out/ok.j2'), 'utf8')).toBe('part a');
  });

  it('validation: file state: link without src is found before the run', async () => {
    const p = await problems(dir, `version: 1\nhosts: { a: local }\nsteps:\n  - call: file\n    args: { path: /tmp/x, state: link }\n`);
    expect(p).toEqual(["pb.yaml:5:11: file needs arg 'src'"]);
  });

  it('validation: a missing template, a folder, a syntax error (with its line)', async () => {
    files(dir, { 'tpl/bad.j2': 'ok\n{% if %}\n', 'tpl/sub/x': '' });
    const p = await problems(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - template: tpl/missing.j2
    to: /tmp/x
  - template: tpl/sub
    to: /tmp/x
  - template: tpl/bad.j2
    to: /tmp/x
`,
    );
    expect(p[0]).toMatch(/^pb\.yaml:4:\d+: template: tpl\/missing\.j2 does not exist/);
    expect(p[1]).toMatch(/^pb\.yaml:6:\d+: template: tpl\/sub is a folder; use sync/);
    expect(p[2]).toMatch(/^pb\.yaml:8:\d+: template: tpl\/bad\.j2: .*line:2/);
  });
});

describe('file', () => {
  const pb = (args: string) => `version: 1
hosts: { a: local }
steps:
  - call: file
    args: ${args}
`;

  it('directory, touch, link, absent: check mode lists what the run then does; a second run changes nothing', async () => {
    const cases: Array<[string, () => void]> = [
      [`{ path: "${dir}/d/e", state: directory, mode: "0750" }`, () => expect(statSync(join(dir, 'd/e')).mode & 0o777).toBe(0o750)],
      [`{ path: "${dir}/d/t", state: touch, mode: "0600" }`, () => expect(statSync(join(dir, 'd/t')).size).toBe(0)],
      [`{ path: "${dir}/d/l", state: link, src: t }`, () => expect(readlinkSync(join(dir, 'd/l'))).toBe('t')],
      [`{ path: "${dir}/d/t", state: absent }`, () => expect(existsSync(join(dir, 'd/t'))).toBe(false)],
    ];
    for (const [args, after] of cases) {
      const check = await run(dir, pb(args), { check: true });
      const real = await run(dir, pb(args));
      after();
      const c = check.steps[0]!.results.a!;
      const r = real.steps[0]!.results.a!;
      expect(c.ok && r.ok).toBe(true);
      if (c.ok && r.ok) {
        expect(c.changed).toBe(true);
        expect(c.value).toEqual(r.value);
        expect(r.changed).toBe(true);
      }
      const again = await run(dir, pb(args));
      expect(again.steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
      const checkAgain = await run(dir, pb(args), { check: true });
      expect(checkAgain.steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
    }
  });

  it('touch and link make a missing folder first, as put does (check mode says so); a file in the way, or an owner or group the host lacks, fails in check mode too', async () => {
    files(dir, { 'f.txt': 'x' });
    const touch = pb(`{ path: "${dir}/nodir/deeper/stamp", state: touch }`);
    const check = await run(dir, touch, { check: true });
    expect(values(check.steps[0]!).a).toMatchObject({ actions: [`create folder ${dir}/nodir/deeper`, 'create empty file'] });
    expect(existsSync(join(dir, 'nodir'))).toBe(false);
    const real = await run(dir, touch);
    expect(values(real.steps[0]!).a).toMatchObject({ actions: [`create folder ${dir}/nodir/deeper`, 'create empty file'] });
    expect(readFileSync(join(dir, 'nodir/deeper/stamp'), 'utf8')).toBe('');
    const link = await run(dir, pb(`{ path: "${dir}/other/l", state: link, src: /etc }`));
    expect(readlinkSync(join(dir, 'other/l'))).toBe('/etc');
    expect(link.steps[0]!.results.a).toMatchObject({ ok: true, changed: true });

    const cases: Array<[string, RegExp]> = [
      [`{ path: "${dir}/f.txt/l", state: link, src: /etc }`, /f\.txt is a file, not a folder/],
      [`{ path: "${dir}/f.txt", owner: no-such-user-x }`, /the host has no user 'no-such-user-x'/],
      [`{ path: "${dir}/f.txt", group: no-such-group-x }`, /the host has no group 'no-such-group-x'/],
    ];
    for (const [args, msg] of cases) {
      for (const check of [true, false]) {
        const r = await run(dir, pb(args), { check });
        const v = values(r.steps[0]!).a as { error: string; msg: string };
        expect(v.error, `${args} check=${check}`).toBe('failed');
        expect(v.msg).toMatch(msg);
      }
    }
    // Numeric ids need no entry.
    const ok = await run(dir, pb(`{ path: "${dir}/f.txt", owner: "${process.getuid?.() ?? 0}" }`), { check: true });
    expect(ok.steps[0]!.results.a).toMatchObject({ ok: true });
  });

  it('a link src that looks like an option is the target, not an option of ln (GNU ln -t would write elsewhere)', async () => {
    mkdirSync(join(dir, 'injdir'));
    const args = `{ path: "${dir}/victim", state: link, src: "-t${dir}/injdir" }`;
    const r = await run(dir, pb(args));
    expect(r.steps[0]!.results.a).toMatchObject({ ok: true, changed: true });
    expect(readlinkSync(join(dir, 'victim'))).toBe(`-t${dir}/injdir`);
    expect(existsSync(join(dir, 'injdir/victim'))).toBe(false);
    expect((await run(dir, pb(args))).steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
  });

  it('a numeric owner or group matches the id the path has: nothing to do, and a second run after a change changes nothing', async () => {
    files(dir, { 'f.txt': 'x' });
    const uid = String(process.getuid?.() ?? 0);
    const gid = String(process.getgid?.() ?? 0);
    const same = await run(dir, pb(`{ path: "${dir}/f.txt", owner: "${uid}", group: "${gid}" }`));
    expect(same.steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
    expect(values(same.steps[0]!).a).toMatchObject({ actions: [] });
    const touch = pb(`{ path: "${dir}/t", state: touch, owner: "${uid}", group: "${gid}" }`);
    expect((await run(dir, touch)).steps[0]!.results.a).toMatchObject({ ok: true, changed: true });
    expect((await run(dir, touch)).steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
  });

  it('state: directory on a link to a directory takes the directory (mode applies to it); a link to a file is refused', async () => {
    mkdirSync(join(dir, 'real'), { mode: 0o755 });
    symlinkSync('real', join(dir, 'ln'));
    files(dir, { 'f.txt': 'x' });
    symlinkSync('f.txt', join(dir, 'fl'));
    const args = `{ path: "${dir}/ln", state: directory, mode: "0750" }`;
    const check = await run(dir, pb(args), { check: true });
    expect(values(check.steps[0]!).a).toMatchObject({ actions: ['chmod 0750 (was 0755)'] });
    const real = await run(dir, pb(args));
    expect(values(real.steps[0]!).a).toMatchObject({ actions: ['chmod 0750 (was 0755)'], changed: true });
    expect(lstatSync(join(dir, 'ln')).isSymbolicLink()).toBe(true);
    expect(statSync(join(dir, 'real')).mode & 0o777).toBe(0o750);
    expect((await run(dir, pb(args))).steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
    const file = await run(dir, pb(`{ path: "${dir}/fl", state: directory }`));
    expect(values(file.steps[0]!).a).toMatchObject({ error: 'failed', msg: expect.stringMatching(/is a link, not a directory/) as string });
  });

  it('mode of an existing file; refuses a file where a directory is wanted; state: file needs the file', async () => {
    files(dir, { 'f.txt': 'x' });
    const r = await run(dir, pb(`{ path: "${dir}/f.txt", mode: "0604" }`));
    expect(values(r.steps[0]!).a).toMatchObject({ actions: ['chmod 0604 (was 0644)'] });
    expect(lstatSync(join(dir, 'f.txt')).mode & 0o777).toBe(0o604);
    const d = await run(dir, pb(`{ path: "${dir}/f.txt", state: directory }`));
    expect(values(d.steps[0]!).a).toMatchObject({ error: 'failed' });
    const m = await run(dir, pb(`{ path: "${dir}/nope", state: file }`));
    expect(values(m.steps[0]!).a).toMatchObject({ error: 'not_found' });
  });
});

describe('line', () => {
  it('editLines follows lineinfile: replace the last match, add once, remove, insert_after', () => {
    const c = 'a=1\nport=1\nport=2\n';
    expect(editLines(c, { line: 'port=80', regexp: /^port=/, state: 'present' })).toEqual({
      content: 'a=1\nport=1\nport=80\n',
      msg: 'line replaced',
    });
    expect(editLines('a=1\n', { line: 'b=2', state: 'present' })).toEqual({ content: 'a=1\nb=2\n', msg: 'line added' });
    expect(editLines('a=1\nb=2\n', { line: 'b=2', state: 'present' }).msg).toBe('');
    expect(editLines(c, { line: '', regexp: /^port=/, state: 'absent' })).toEqual({ content: 'a=1\n', msg: '2 line(s) removed' });
    expect(editLines('a\nb\nc\n', { line: 'x', state: 'present', insertAfter: /^a$/ }).content).toBe('a\nx\nb\nc\n');
    expect(editLines('no newline', { line: 'x', state: 'present' }).content).toBe('no newline\nx\n');
    expect(editLines('', { line: 'x', state: 'present' }).content).toBe('x\n');
  });

  it('editLines on a CRLF file: compares lines without their CR, and writes CRLF', () => {
    const c = 'a=1\r\nport=1\r\ny\r\n';
    expect(editLines(c, { line: 'y', state: 'present' }).msg).toBe('');
    expect(editLines(c, { line: 'port=80', regexp: /^port=1$/, state: 'present' }).content).toBe('a=1\r\nport=80\r\ny\r\n');
    expect(editLines(c, { line: 'z', state: 'present' }).content).toBe('a=1\r\nport=1\r\ny\r\nz\r\n');
    expect(editLines(c, { line: 'y', state: 'absent' }).content).toBe('a=1\r\nport=1\r\n');
    expect(editLines('a=1\n', { line: 'b', state: 'present' }).content).toBe('a=1\nb\n');
  });

  it('several local hosts adding lines to one file lose none (the edits of one path take turns)', async () => {
    files(dir, { 'shared.conf': '' });
    const hosts = Array.from({ length: 12 }, (_, i) => `h${i}: local`).join(', ');
    const text = `version: 1
hosts: { ${hosts} }
steps:
  - call: line
    args: { path: "${dir}/shared.conf", line: "{host}=on" }
`;
    const r = await run(dir, text);
    expect(Object.values(r.steps[0]!.results).every((x) => x.ok && x.changed)).toBe(true);
    const lines = readFileSync(join(dir, 'shared.conf'), 'utf8').trim().split('\n').sort();
    expect(lines).toEqual(Array.from({ length: 12 }, (_, i) => `h${i}=on`).sort());
  });

  it('check mode is exact, the run does it with a diff, the second run changes nothing; the mode is kept', async () => {
    files(dir, { 'etc/app.conf': 'name=x\nport=1\n' });
    const pb = `version: 1
hosts: { a: local }
steps:
  - call: line
    args: { path: "${dir}/etc/app.conf", line: "port=80", regexp: "^port=" }
  - call: line
    args: { path: "${dir}/etc/new.conf", line: "x=1", create: true }
  - call: line
    args: { path: "${dir}/etc/app.conf", line: "name=x", state: absent }
`;
    chmodSync(join(dir, 'etc/app.conf'), 0o600);
    const check = await run(dir, pb, { check: true, diff: true });
    expect(readFileSync(join(dir, 'etc/app.conf'), 'utf8')).toBe('name=x\nport=1\n');
    const real = await run(dir, pb, { diff: true });
    expect(readFileSync(join(dir, 'etc/app.conf'), 'utf8')).toBe('port=80\n');
    expect(readFileSync(join(dir, 'etc/new.conf'), 'utf8')).toBe('x=1\n');
    expect(statSync(join(dir, 'etc/app.conf')).mode & 0o777).toBe(0o600);
    expect(check.steps.map((s) => s.results.a)).toMatchObject([{ changed: true }, { changed: true }, { changed: true }]);
    // Check mode sees the file as it is (the third step's diff context differs: the run edited it first).
    const noDiff = (r: typeof check) =>
      r.steps.map((s) => ({ ...(s.results.a as { value: Record<string, unknown> }).value, diff: undefined }));
    expect(noDiff(check)).toEqual(noDiff(real));
    expect((values(real.steps[0]!).a as { diff: string }).diff).toContain('-port=1\n+port=80');
    const again = await run(dir, pb);
    expect(again.steps.map((s) => s.results.a)).toMatchObject([{ changed: false }, { changed: false }, { changed: false }]);
  });

  it('state: absent with only regexp removes the matching lines; line stays required to add one', async () => {
    files(dir, { 'app.conf': '# a\nx=1\n# b\n' });
    const pb = (args: string) => `version: 1\nhosts: { a: local }\nsteps:\n  - call: line\n    args: ${args}\n`;
    const absent = pb(`{ path: "${dir}/app.conf", state: absent, regexp: "^#" }`);
    expect(await problems(dir, absent)).toEqual([]);
    expect(await problems(dir, pb(`{ path: "${dir}/app.conf", state: absent }`))).toEqual(["pb.yaml:5:11: line needs arg 'line'"]);
    expect(await problems(dir, pb(`{ path: "${dir}/app.conf", regexp: "^#" }`))).toEqual(["pb.yaml:5:11: line needs arg 'line'"]);
    const r = await run(dir, absent);
    expect(values(r.steps[0]!).a).toMatchObject({ changed: true, msg: '2 line(s) removed' });
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe('x=1\n');
    expect((await run(dir, absent)).steps[0]!.results.a).toMatchObject({ ok: true, changed: false });
  });

  it('a missing file without create is not_found', async () => {
    const r = await run(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - call: line
    args: { path: "${dir}/none", line: "x" }
`,
    );
    expect(values(r.steps[0]!).a).toMatchObject({ error: 'not_found' });
  });
});

describe('write failures of template, line and file', () => {
  it('name the template and the edited path, never the controller temp file they were written through', async () => {
    files(dir, { afile: 'x', 'tpl/app.conf.j2': 'port = 1\n' });
    const r = await run(
      dir,
      `version: 1
hosts: { a: local }
defaults: { on_failure: ignore }
steps:
  - template: tpl/app.conf.j2
    to: "${dir}/afile/x/"
  - call: line
    args: { path: "${dir}/afile/l", line: x, create: true }
`,
    );
    const [t, l] = r.steps.map((st) => values(st).a as { error: string; msg: string });
    expect(t!.msg).toContain(`a: template tpl/app.conf.j2 → ${dir}/afile/x/ `);
    expect(l!.msg).toContain(`a: line ${dir}/afile/l `);
    for (const v of [t!, l!]) expect(v.msg).not.toMatch(/chopsticks-(template|line)-/);
  });

  it('file state: touch on a read-only filesystem is remote_io, as put and line report it', async () => {
    // A touch that fails as on a read-only mount: the real one cannot be had without privileges.
    files(dir, { 'bin/touch': '#!/bin/sh\necho "touch: $1: Read-only file system" >&2\nexit 1\n' });
    chmodSync(join(dir, 'bin/touch'), 0o755);
    const r = await run(
      dir,
      `version: 1
hosts: { a: { transport: local, env: { PATH: "${dir}/bin:${process.env.PATH ?? '/usr/bin:/bin'}" } } }
steps:
  - call: file
    args: { path: "${dir}/t", state: touch }
`,
    );
    expect(values(r.steps[0]!).a).toMatchObject({ error: 'remote_io', msg: expect.stringMatching(/Read-only file system/) as string });
  });
});

describe('creates / removes / changed_when', () => {
  it('skip a command with changed false; changed_when decides changed from the result', async () => {
    mkdirSync(join(dir, 'x'));
    const pb = `version: 1
hosts: { a: local }
steps:
  - name: make
    call: shell
    args: { cmd: "echo hi > ${dir}/made", creates: "${dir}/made" }
  - name: remove
    call: command
    args: { argv: [rm, "${dir}/gone"], removes: "${dir}/gone" }
  - name: same
    call: shell
    args: { cmd: "echo same", changed_when: { "!=": [{ var: result.stdout }, "same\\n"] } }
  - name: rc
    call: shell
    args: { cmd: "exit 3", ok_codes: [0, 3], changed_when: { "==": [{ var: result.rc }, 3] } }
`;
    const check = await run(dir, pb, { check: true });
    expect(step(check, 'make').results.a).toMatchObject({ ok: true, changed: true, outcome: 'would_change' });
    expect(step(check, 'remove').results.a).toMatchObject({ ok: true, changed: false, value: { skipped: true } });
    const first = await run(dir, pb);
    expect(step(first, 'make').results.a).toMatchObject({ changed: true });
    expect(step(first, 'remove').results.a).toMatchObject({
      changed: false,
      value: { skipped: true, msg: `removes: ${dir}/gone does not exist` },
    });
    expect(step(first, 'same').results.a).toMatchObject({ changed: false });
    expect(step(first, 'rc').results.a).toMatchObject({ changed: true });
    const second = await run(dir, pb);
    expect(step(second, 'make').results.a).toMatchObject({ changed: false, value: { skipped: true } });
    const check2 = await run(dir, pb, { check: true });
    expect(step(check2, 'make').results.a).toMatchObject({ ok: true, changed: false, value: { skipped: true } });
  });

  it('validation: changed_when reads result.*; an unknown root or operator is reported at its place', async () => {
    const p = await problems(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - call: shell
    args:
      cmd: "true"
      changed_when: { "==": [{ var: reslt.rc }, 0] }
  - call: shell
    args: { cmd: "true", changed_when: { "equals": [1, 1] } }
`,
    );
    expect(p[0]).toMatch(/^pb\.yaml:7:\d+: var "reslt\.rc": unknown name 'reslt'.*did you mean 'result'/);
    expect(p[1]).toMatch(/^pb\.yaml:9:\d+: unknown rule operator 'equals'/);
  });
});

describe('diff helper', () => {
  it('text, binary, too big', () => {
    expect(unifiedDiff('/f', 'a\n', 'b\n')).toBe('--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n+b\n');
    expect(unifiedDiff('/f', 'same', 'same')).toBe('');
    expect(unifiedDiff('/f', Buffer.from([0, 1, 2]), 'x')).toBe('Binary files a/f and b/f differ\n');
    expect(unifiedDiff('/f', 'x'.repeat(70_000), 'y')).toMatch(/larger than 64 KiB.*before 70000 bytes, sha1 [0-9a-f]{40}; after 1 bytes/);
  });
});
