/** The library surface: what a program embedding Chopsticks calls. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlaybookInvalidError, planPlaybook, runPlaybook, type RunEvent } from '../src/index.js';

describe('library API', () => {
  it('runPlaybook runs a playbook on local hosts and resolves with the report; events arrive in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-api-'));
    try {
      const file = join(dir, 'p.yaml');
      writeFileSync(
        file,
        'version: 1\nvars: { who: world }\nhosts: { a: local, b: local }\nsteps:\n  - call: command\n    args: { argv: [echo, "hello {vars.who} from {host}"] }\n    on: all - b\n',
      );
      const events: Array<RunEvent['type']> = [];
      const { status, report } = await runPlaybook(file, { vars: { who: 'you' }, onEvent: (ev) => events.push(ev.type) });
      expect(status).toBe('ok');
      expect(report.steps[0]!.targets).toEqual(['a']);
      const a = report.steps[0]!.results.a!;
      expect(a.ok && (a.value as { stdout: string }).stdout).toBe('hello you from a\n');
      expect(events[0]).toBe('run_started');
      expect(events.at(-1)).toBe('run_finished');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('planPlaybook throws PlaybookInvalidError holding every problem, with positions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-api-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'version: 1\nhosts: { a: local }\nsteps:\n  - call: nope\n  - call: ping\n    on: a - zz\n');
      const err = await planPlaybook(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlaybookInvalidError);
      const problems = (err as PlaybookInvalidError).problems;
      expect(problems.length).toBeGreaterThanOrEqual(2);
      expect(problems.map((p) => `${p.pos.line}:${p.pos.col}`)).toEqual(expect.arrayContaining(['4:11']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
