/**
 * The terminal view as a user is left with it (docs/cli.md, output modes): the real CLI on a
 * pseudo-terminal, its bytes replayed into a terminal emulator, assertions on the final screen.
 * When a run ends the screen holds every step (and every batch), every failed host with its
 * error kind and whole message, and the summary line, for every strategy, at any width.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, tempDir, writePlaybook } from '../cli/helpers.js';
import { cliCommand, replay, runInPty, runShellInPty, type Screen } from './pty-screen.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const RED = 1;
const GREEN = 2;
/** Long enough to be cut by any "one line" rule; its end must still be on the screen. */
const LONG_TAIL = `${'the deploy of release 2.4.1 could not continue because '.repeat(5)}END-OF-MESSAGE`;

function rollingPlaybook(strategy: 'linear' | 'free', serial: boolean): string {
  return [
    'version: 1',
    `strategy: ${strategy}`,
    ...(serial ? ['serial: 1'] : []),
    'hosts:',
    '  h1: local',
    '  h2: local',
    '  h3: local',
    'steps:',
    '  - name: warm up',
    '    call: shell',
    "    args: { cmd: 'sleep 0.3' }",
    '  - name: check',
    '    call: shell',
    `    args: { cmd: 'test {host} != h3 || (echo "${LONG_TAIL}" >&2; exit 1)' }`,
    '',
  ].join('\n');
}

/** Every logical line holding `needle`. */
function linesWith(s: Screen, needle: string | RegExp): string[] {
  return s.lines.filter((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l)));
}

function expectFinalScreen(s: Screen, batches: string[][]): void {
  const text = s.lines.join('\n');
  const perBatch = batches.length > 1;
  for (const [i, hosts] of batches.entries()) {
    if (perBatch) expect(linesWith(s, `❯ batch ${i + 1}: ${hosts.join(',')}`), text).toHaveLength(1);
  }
  // Every step, once per batch, each drawn once (a redraw must not leave copies behind).
  expect(linesWith(s, /✔ \[1\/2\] warm up on /), text).toHaveLength(batches.length);
  expect(linesWith(s, /\[2\/2\] check on /), text).toHaveLength(batches.length);
  // The failed step is marked ✖ in red, the others ✔ in green.
  const failedStep = linesWith(s, /✖ \[2\/2\] check on /);
  expect(failedStep, text).toHaveLength(1);
  expect(failedStep[0]).toMatch(/1 failed/);
  expect(s.colorOf('✖ [2/2] check', '✖')).toBe(RED);
  expect(s.colorOf('✔ [1/2] warm up', '✔')).toBe(GREEN);
  // The failed host, its error kind and its whole message.
  const failed = linesWith(s, 'FAILED h3: failed: h3: shell');
  expect(failed, text).toHaveLength(1);
  expect(failed[0]).toContain(`exited 1: ${LONG_TAIL}`);
  const summary = s.lines.at(-1)!;
  expect(summary).toMatch(/^run failed: 2 ok, 1 failed, 0 unreachable \(3 hosts, 3 changed\) in /);
}

describe('terminal view on a real pseudo-terminal', () => {
  for (const strategy of ['linear', 'free'] as const) {
    for (const serial of [false, true]) {
      it(`${strategy}${serial ? ', serial: 1' : ''}: the last host fails; the screen ends with every step, batch, error and the summary`, async () => {
        dir = tempDir();
        const pb = writePlaybook(dir, rollingPlaybook(strategy, serial));
        const r = await runInPty(['run', pb, '--output', 'tty'], { cols: 100, rows: 40 });
        expect(r.code, r.raw).toBe(2);
        const s = await replay(r.raw, 100, 40);
        expectFinalScreen(s, serial ? [['h1'], ['h2'], ['h3']] : [['h1', 'h2', 'h3']]);
      });
    }
  }

  it('an interrupt: its notice stays on the screen above the redrawn lines, and no live line is left behind', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      [
        'version: 1',
        'hosts: { h1: local, h2: local }',
        'steps:',
        '  - name: long',
        '    call: shell',
        "    args: { cmd: 'sleep 20' }",
        '',
      ].join('\n'),
    );
    // SIGTERM: a background job of a non-interactive shell starts with SIGINT ignored.
    const cmd = `${cliCommand(['run', pb, '--output', 'tty'])} & p=$!; sleep 1.5; kill -TERM $p; wait $p`;
    const r = await runShellInPty(cmd, { cols: 100, rows: 40 });
    const s = await replay(r.raw, 100, 40);
    const text = s.lines.join('\n');
    expect(linesWith(s, 'chopsticks: SIGTERM: stopping; no new work starts'), text).toHaveLength(1);
    // The step's live line (spinner, hosts running) is gone; the step is drawn once, finished.
    expect(linesWith(s, /\[1\/1\] long/), text).toHaveLength(1);
    expect(linesWith(s, /running|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/), text).toEqual([]);
    expect(s.lines.at(-1)).toMatch(/^run interrupted/);
  });

  it('--output auto on a terminal is this view too', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, rollingPlaybook('linear', true));
    const r = await runInPty(['run', pb], { cols: 100, rows: 40 });
    expect(r.code).toBe(2);
    expectFinalScreen(await replay(r.raw, 100, 40), [['h1'], ['h2'], ['h3']]);
  });

  it('a narrow terminal (30 columns) wraps long lines and cuts nothing', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, rollingPlaybook('linear', true));
    const r = await runInPty(['run', pb, '--output', 'tty'], { cols: 30, rows: 20 });
    expect(r.code).toBe(2);
    expectFinalScreen(await replay(r.raw, 30, 20), [['h1'], ['h2'], ['h3']]);
  });

  it('a terminal that reports 0 columns is drawn as 80 wide, not a character per line', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, rollingPlaybook('linear', true));
    const r = await runInPty(['run', pb, '--output', 'tty'], {});
    expect(r.code).toBe(2);
    const s = await replay(r.raw, 80, 24);
    expectFinalScreen(s, [['h1'], ['h2'], ['h3']]);
    expect(s.rows.some((row) => row.startsWith('run failed: 2 ok, 1 failed'))).toBe(true);
  });

  it('the playbook shipped as playbooks/serial-rolling.yaml ends with every batch and the summary', async () => {
    const r = await runInPty(['run', join(__dirname, '../../playbooks/serial-rolling.yaml'), '--output', 'tty'], { cols: 100, rows: 40 });
    expect(r.code, r.raw).toBe(0);
    const s = await replay(r.raw, 100, 40);
    for (const b of ['batch 1: web01', 'batch 2: web[02-03]', 'batch 3: web[04-05]'])
      expect(linesWith(s, b), s.lines.join('\n')).toHaveLength(1);
    expect(linesWith(s, '[4/4] back into the load balancer')).toHaveLength(3);
    expect(s.lines.at(-1)).toMatch(/^run ok: 5 ok, 0 failed/);
  });

  it('put: the step says how many bytes moved and at what rate', async () => {
    dir = tempDir();
    const blob = join(dir, 'blob.bin');
    writeFileSync(blob, Buffer.alloc(3 * 1024 * 1024, 7));
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n  h1: local\n  h2: local\nsteps:\n  - put: blob.bin\n    to: ${dir}/out/{host}.bin\n`,
    );
    const r = await runInPty(['run', pb, '--output', 'tty'], { cols: 100, rows: 40 });
    expect(r.code, r.raw).toBe(0);
    const s = await replay(r.raw, 100, 40);
    expect(linesWith(s, /✔ \[1\/1\] put .* on h\[1-2\] .*6\.0 MiB at [\d.]+ [KMG]iB\/s/), s.lines.join('\n')).toHaveLength(1);
  });
});
