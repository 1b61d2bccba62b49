/**
 * Human output in plain mode (docs/cli.md#output-modes): remote stderr echoed with the host's name in front, and
 * identical results folded with compact host names.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cleanup, ensureBuilt, names, readReport, runCli, startCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const WEB = names('web', 12, 2);
const hosts = `hosts:\n${WEB.map((h) => `  ${h}: local`).join('\n')}\n`;

describe('plain output', () => {
  it('folds identical results of 12 hosts into web[01-12], and the host that differs stands out', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\n${hosts}steps:\n  - call: ping\n  - call: command\n    args: { argv: [sh, -c, 'if [ {host} = web07 ]; then echo odd; else echo same; fi'] }\n`,
    );
    const r = await runCli(['run', pb, '--output', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok web[01-12]: "pong"');
    expect(r.stdout).toMatch(/web\[01-06\],web\[08-12\]|web\[01-06,08-12\]/);
    expect(r.stdout).toMatch(/web07: .*odd/);
    // 12 hosts share one interrupt signal: no Node warning about listeners may leak into the output.
    expect(r.stderr).toBe('');
  });

  it('echoes remote stderr line by line with the host name in front', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n  alpha: local\n  beta: local\nsteps:\n  - call: shell\n    args: { cmd: 'echo "first {host}" >&2; echo "on stdout"; printf "second {host}" >&2' }\n`,
    );
    const r = await runCli(['run', pb, '--output', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ['alpha', 'beta']) {
      expect(r.stdout).toMatch(new RegExp(`^${h} \\| first ${h}$`, 'm'));
      // A last line without a newline still comes out, under its host.
      expect(r.stdout).toMatch(new RegExp(`^${h} \\| second ${h}$`, 'm'));
    }
    expect(r.stdout).not.toMatch(/\| on stdout/);
  });

  it('with --json - the human output, stderr echo included, goes to stderr', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `version: 1\nhosts:\n  alpha: local\nsteps:\n  - call: shell\n    args: { cmd: 'echo oops >&2' }\n`);
    const r = await runCli(['run', pb, '--json', '-', '--output', 'plain']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^alpha \| oops$/m);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'ok' });
  });

  it('quiet output shows failures and the summary only', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `version: 1\n${hosts}steps:\n  - call: shell\n    args: { cmd: 'test {host} != web03' }\n`);
    const r = await runCli(['run', pb, '--output', 'quiet']);
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/web03/);
    expect(lines[1]).toMatch(/run failed: 11 ok/);
  });

  it('a reader that closes stdout early (`| head`) does not kill the run: it finishes and writes its report', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `version: 1\n${hosts}steps:\n${'  - call: ping\n'.repeat(30)}`);
    const { child, done } = startCli(['run', pb, '--output', 'plain', '--json', join(dir, 'r.json')]);
    child.stdout!.once('data', () => child.stdout!.destroy());
    const r = await done;
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
    const rep = readReport(join(dir, 'r.json'));
    expect(rep.status).toBe('ok');
    expect(rep.steps).toHaveLength(30);
  });
});
