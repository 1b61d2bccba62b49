/**
 * Human output in plain mode (docs/cli.md#output-modes): remote stderr echoed with the host's name in front, and
 * identical results folded with compact host names.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay, runInPty } from '../report/pty-screen.js';
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

  it("what a command stopped by its step's timeout writes after the result (the shell's Terminated) is not shown under the next step", async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
hosts: { a: local }
steps:
  - call: shell
    args: { cmd: "echo before >&2; sleep 10" }
    timeout: 1s
    on_failure: ignore
  - call: shell
    args: { cmd: "sleep 1; echo second" }
`,
    );
    const r = await runCli(['run', pb, '--output', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    const [first, second] = r.stdout.split('▶ [2/2]');
    expect(first).toContain('a | before');
    expect(second).not.toContain('a |');
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

/**
 * A host that prints terminal escape sequences (test/fixtures/callables/hostile-terminal.sh)
 * must not retitle, clear or move the controller's terminal, nor forge a "run ok" line: every
 * human output shows its text escaped; the JSON report keeps it as data.
 */
describe('a hostile host cannot take over the terminal', () => {
  const HOSTILE = join(__dirname, '../fixtures/callables/hostile-terminal.sh');
  function hostilePlaybook(): string {
    dir = tempDir();
    copyFileSync(HOSTILE, join(dir, 'hostile.sh'));
    return writePlaybook(
      dir,
      [
        'version: 1',
        'hosts:',
        '  h1: local',
        '  h2: local',
        'steps:',
        '  - name: value with escapes',
        '    call: shell',
        '    args: { cmd: \'printf "v \\033[2J \\302\\233H \\342\\200\\256x"\' }',
        '  - name: hostile',
        '    call: script',
        '    args: { path: hostile.sh }',
        '',
      ].join('\n'),
    );
  }
  // Anything that starts a control sequence, overwrites a line or reorders text.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  for (const mode of ['plain', 'quiet'] as const) {
    it(`--output ${mode}: escaped, and no forged line`, async () => {
      const pb = hostilePlaybook();
      const r = await runCli(['run', pb, '--output', mode, '--json', join(dir, 'r.json')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
      expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
      expect(r.stdout).toContain('\\x1b[2J\\x1b[H\\rrun ok: 3 ok');
      expect(r.stdout).toContain('\\u009b2J bidi \\u202edekcah');
      if (mode === 'plain') {
        expect(r.stdout).toContain('h1 | retitle \\x1b]0;pwned\\x07 clear');
        expect(r.stdout).toContain('v \\u001b[2J \\u009bH \\u202ex');
      }
      expect(r.stdout.split('\n').filter((l) => l.startsWith('run '))).toEqual([expect.stringMatching(/^run failed: 0 ok, 2 failed/)]);
      // The report keeps the host's text as it was (JSON escapes it as data).
      const msg = (readReport(join(dir, 'r.json')).steps[1]!.results.h1 as { error: { msg: string } }).error.msg;
      expect(msg).toContain('\u001b]0;pwned\u0007');
    });
  }

  it('--output tty on a terminal: no sequence of the host reaches the terminal, and no forged line', async () => {
    const pb = hostilePlaybook();
    const r = await runInPty(['run', pb, '--output', 'tty'], { cols: 120, rows: 40 });
    expect(r.code, r.raw).toBe(2);
    // Only our own sequences: colours, and moving up over the live lines to redraw them.
    // eslint-disable-next-line no-control-regex -- matching escape sequences is the point
    const ours = /\u001b\[[0-9;]*m|\u001b\[\d+A\u001b\[J|\r\n|\r(?=\u001b\[\d+A)/g;
    expect(r.raw.replace(ours, '').replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
    const s = await replay(r.raw, 120, 40);
    expect(s.lines.some((l) => l.includes('h1 | retitle \\x1b]0;pwned\\x07 clear \\x1b[2J\\x1b[H\\rrun ok'))).toBe(true);
    expect(s.lines.filter((l) => l.startsWith('run '))).toEqual([expect.stringMatching(/^run failed: 0 ok, 2 failed/)]);
  });
});
