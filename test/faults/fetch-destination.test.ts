/**
 * A host can never make a fetch write outside the folder the playbook fixes
 * (docs/security.md#local-paths-a-host-fills): a value it returns that climbs out with `..`, a
 * literal `..` after a placeholder, and a destination folder that is a symlink elsewhere. Nor
 * can it make put, template or sync read a controller file outside the folder their source fixes.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

describe('fetch destinations', () => {
  it('a host value that climbs out with .. fails the host and writes nothing outside', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'victim'));
    writeFileSync(join(dir, 'src.txt'), 'payload\n');
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { h1: local }
steps:
  - call: shell
    args: { cmd: "printf '../../victim/victim.conf'" }
    register: r
  - fetch: ${join(dir, 'src.txt')}
    to: out/{host}/{results.r.stdout}
`,
    );
    const r = await runCli(['run', pb, '--json', '-', '--output', 'quiet']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    const res = rep.steps[1]!.results.h1!;
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error.msg).toMatch(/outside .*out\/h1; a value from the host/);
    expect(existsSync(join(dir, 'victim', 'victim.conf'))).toBe(false);
  });

  it("a literal '..' after a placeholder is a validation error", async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      'version: 1\nhosts: { h1: local, h2: local }\nsteps:\n  - fetch: /etc/hostname\n    to: out/{host}/../../x-{host}\n',
    );
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/playbook\.yaml:5:9: fetch to 'out\/\{host\}\/\.\.\/\.\.\/x-\{host\}': '\.\.' after a placeholder/);
  });

  it('a destination folder that is a symlink to elsewhere is refused', async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(dir, 'out'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'out', 'h1'));
    writeFileSync(join(dir, 'src.txt'), 'payload\n');
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts: { h1: local }\nsteps:\n  - fetch: ${join(dir, 'src.txt')}\n    to: out/{host}/copy.txt\n`,
    );
    const r = await runCli(['run', pb, '--json', '-', '--output', 'quiet']);
    expect(r.code).toBe(2);
    const res = parseReport(r.stdout).steps[0]!.results.h1!;
    expect(!res.ok && res.error.msg).toMatch(/is a symlink; fetch does not write through symlinked folders/);
    expect(existsSync(join(dir, 'elsewhere', 'copy.txt'))).toBe(false);
  });

  it.each([
    ['put', 'to: /tmp/'],
    ['template', 'to: /tmp/'],
    ['sync', 'to: /tmp/'],
  ])('a host value that names a controller file outside the source folder fails %s before reading it', async (kind, to) => {
    dir = tempDir();
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'secret.txt'), 'controller-only\n');
    const out = join(dir, 'sent');
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { h1: local }
steps:
  - call: shell
    args: { cmd: "printf '../secret.txt'" }
    register: r
  - ${kind}: "files/{results.r.stdout}"
    ${to.replace('/tmp/', `${out}/`)}
`,
    );
    const r = await runCli(['run', pb, '--json', '-', '--output', 'quiet']);
    expect(r.code, r.stderr).toBe(2);
    const res = parseReport(r.stdout).steps[1]!.results.h1!;
    expect(!res.ok && res.error.msg).toMatch(
      new RegExp(`h1: ${kind} 'files/\\{results.r.stdout\\}' gave .*secret.txt, outside .*files; a value from the host`),
    );
    expect(existsSync(out)).toBe(false);
  });
});
