/**
 * Exit codes (docs/cli.md#exit-codes) and reports (docs/cli.md#the-run-report---json), through the real CLI on local hosts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, readReport, runCli, startCli, tempDir, waitFor, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const THREE = `version: 1
hosts:
  a: local
  b: local
  c: local
`;

/** A tiny XML well-formedness check: balanced tags, quoted attributes, known entities. */
function assertWellFormedXml(xml: string): Array<{ name: string; attrs: Record<string, string>; parent?: string }> {
  const elements: Array<{ name: string; attrs: Record<string, string>; parent?: string }> = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const stack: string[] = [];
  const tagRe = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tagRe.exec(body); m; m = tagRe.exec(body)) {
    const text = body.slice(last, m.index);
    expect(text, 'text between tags').not.toMatch(/[<>]/);
    expect(text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, '')).not.toContain('&');
    last = tagRe.lastIndex;
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    elements.push({ name: name!, attrs, parent: stack.at(-1) });
    if (!selfClose) stack.push(name!);
  }
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  return elements;
}

describe('exit codes', () => {
  it('0 when every targeted host succeeded; the report says ok for each host', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: ping\n  - call: facts.hostname\n    on: a | c\n`);
    const r = await runCli(['run', pb, '--json', join(dir, 'r.json'), '--output', 'plain']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = readReport(join(dir, 'r.json'));
    expect(rep.status).toBe('ok');
    expect(rep.hosts).toEqual({ a: 'ok', b: 'ok', c: 'ok' });
    expect(rep.steps.map((s) => s.targets)).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
    expect(rep.steps[0]!.results.b).toMatchObject({ ok: true, value: 'pong', changed: false });
  });

  it('2 when a host failed and the run went on; the failed host is "failed" in hosts', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: shell\n    args: { cmd: 'test {host} != b' }\n  - call: ping\n`);
    const r = await runCli(['run', pb, '--json', join(dir, 'r.json')]);
    expect(r.code).toBe(2);
    const rep = readReport(join(dir, 'r.json'));
    expect(rep.status).toBe('failed');
    expect(rep.hosts).toEqual({ a: 'ok', b: 'failed', c: 'ok' });
    expect(rep.steps[0]!.status).toBe('failed');
    const b = rep.steps[0]!.results.b!;
    expect(b.ok).toBe(false);
    if (!b.ok) {
      expect(b.error.kind).toBe('failed');
      expect(b.error.msg).toContain('b');
    }
  });

  it('3 when a policy aborted the run', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `${THREE}steps:\n  - call: shell\n    args: { cmd: 'test {host} != b' }\n    on_failure: abort\n  - call: ping\n`,
    );
    const r = await runCli(['run', pb, '--json', join(dir, 'r.json')]);
    expect(r.code).toBe(3);
    const rep = readReport(join(dir, 'r.json'));
    expect(rep.status).toBe('aborted');
    expect(rep.steps.map((s) => s.status)).toEqual(['aborted', 'not_run']);
  });

  it('4 for an invalid playbook, and nothing runs', async () => {
    dir = tempDir();
    const marker = join(dir, 'ran');
    const pb = writePlaybook(
      dir,
      `${THREE}steps:\n  - call: shell\n    args: { cmd: 'touch ${marker}' }\n  - call: ping\n    on: nosuchgroup\n`,
    );
    const r = await runCli(['run', pb, '--json', join(dir, 'r.json')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/playbook\.yaml:\d+:\d+: .*nosuchgroup/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'r.json'))).toBe(false);
  });

  it('5 for a wrong command line', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: ping\n`);
    for (const args of [
      ['run', pb, '--no-such-flag'],
      ['frobnicate'],
      ['run'],
      ['run', pb, '--output', 'fancy'],
      ['run', pb, '--concurrency', '0'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr).toMatch(/chopsticks: /);
    }
  });

  it('5 for --junit - and --events -: only --json writes to standard output, and no file named - is made', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: ping\n`);
    for (const flag of ['--junit', '--events']) {
      const r = await runCli(['run', pb, flag, '-'], { cwd: dir });
      expect(r.code, flag).toBe(5);
      expect(r.stderr).toContain(`${flag} needs a FILE; only --json can write to standard output`);
      expect(existsSync(join(dir, '-'))).toBe(false);
    }
  });

  it('5 before any host is contacted when --json or --junit names a folder', async () => {
    dir = tempDir();
    const marker = join(dir, 'touched');
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: shell\n    args: { cmd: 'touch ${marker}' }\n`);
    for (const flag of ['--json', '--junit']) {
      const r = await runCli(['run', pb, flag, dir]);
      expect(r.code, flag).toBe(5);
      expect(r.stderr).toContain(`${flag} ${dir}: is a folder`);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('5, not an internal error, for a report path under a file or where no file can be made; report -o and merge too', async () => {
    dir = tempDir();
    const marker = join(dir, 'touched');
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: shell\n    args: { cmd: 'touch ${marker}' }\n`);
    const cases: Array<[string, RegExp]> = [
      [join(pb, 'x.json'), /a part of the path is not a folder/],
      ['/proc/chopsticks-x.json', /cannot make a file in \/proc/],
      [join(dir, 'nope', 'x.json'), /folder .*nope does not exist/],
    ];
    for (const [path, msg] of cases) {
      for (const flag of ['--json', '--junit']) {
        const r = await runCli(['run', pb, flag, path]);
        expect(r.code, `${flag} ${path}`).toBe(5);
        expect(r.stderr).toMatch(msg);
      }
    }
    expect(existsSync(marker)).toBe(false);
    const ok = await runCli(['run', pb, '--json', join(dir, 'r.json')]);
    expect(ok.code, ok.stderr).toBe(0);
    const md = await runCli(['report', join(dir, 'r.json'), '--format', 'markdown', '-o', join(dir, 'nope', 'r.md')]);
    expect(md.code).toBe(5);
    const merge = await runCli(['report', 'merge', join(dir, 'r.json'), '-o', join(dir, 'm.json'), '--junit', join(dir, 'nope', 'm.xml')]);
    expect(merge.code).toBe(5);
    expect(existsSync(join(dir, 'm.json'))).toBe(false);
  });
});

describe('reports', () => {
  it('--json - prints the report alone on stdout and human output on stderr', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `${THREE}groups:\n  ab: [a, b]\nsteps:\n  - call: ping\n    on: ab\n  - filter: test\n    args: { cmd: 'test {host} = c' }\n    as: only_c\n`,
    );
    const r = await runCli(['run', pb, '--json', '-', '--output', 'plain']);
    expect(r.code).toBe(0);
    const rep = parseReport(r.stdout);
    expect(rep.groups).toEqual({ ab: ['a', 'b'], only_c: ['c'] });
    expect(rep.playbook_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rep.check).toBe(false);
    expect(r.stderr).toContain('call ping');
    expect(r.stderr).toMatch(/run ok/);
  });

  it("--json -: a custom callable's console.log goes to stderr, so stdout stays the report alone", async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'logs.mjs'), "export default function (host) { console.log('LOG from ' + host.name); return 1; }\n");
    const pb = writePlaybook(dir, `version: 1\ncallables: { logs: ./logs.mjs }\nhosts: { a: local }\nsteps:\n  - call: logs\n`);
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseReport(r.stdout).hosts).toEqual({ a: 'ok' });
    expect(r.stderr).toContain('LOG from a');
  });

  it('results keys follow targets order even when hosts finish in another order', async () => {
    dir = tempDir();
    // c finishes first, a last.
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n  a: { transport: local, vars: { d: "0.6" } }\n  b: { transport: local, vars: { d: "0.3" } }\n  c: { transport: local, vars: { d: "0" } }\nsteps:\n  - call: command\n    args: { argv: [sleep, "{hostvars.d}"] }\n`,
    );
    const r = await runCli(['run', pb, '--json', '-', '--events', join(dir, 'ev.jsonl')]);
    expect(r.code).toBe(0);
    const rep = parseReport(r.stdout);
    expect(Object.keys(rep.steps[0]!.results)).toEqual(['a', 'b', 'c']);
    const finished = readFileSync(join(dir, 'ev.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; host?: string })
      .filter((e) => e.type === 'host_result')
      .map((e) => e.host);
    expect(finished).toEqual(['c', 'b', 'a']);
  });

  it('--junit writes well-formed XML: a suite per step, a case per host, failures marked', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `${THREE}steps:\n  - call: shell\n    args: { cmd: 'echo "<&\\"quote\\">"; test {host} != b' }\n  - call: ping\n`,
    );
    const r = await runCli(['run', pb, '--junit', join(dir, 'j.xml')]);
    expect(r.code).toBe(2);
    const xml = readFileSync(join(dir, 'j.xml'), 'utf8');
    const els = assertWellFormedXml(xml);
    const suites = els.filter((e) => e.name === 'testsuite');
    expect(suites).toHaveLength(2);
    const cases = els.filter((e) => e.name === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(['a', 'b', 'c', 'a', 'c']);
    const failures = els.filter((e) => e.name === 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.parent).toBe('testcase');
    expect(suites[0]!.attrs.failures).toBe('1');
  });

  it('hosts the run never reached (an abort, a serial batch that never started) are targets without results, and skipped cases in JUnit', async () => {
    dir = tempDir();
    // serial 2: a,b then c; b fails with abort, so a stops before step 2 and c's batch never starts.
    const pb = writePlaybook(
      dir,
      `${THREE}serial: 2\nsteps:\n  - call: shell\n    args: { cmd: 'test {host} != b' }\n    on_failure: abort\n  - call: ping\n`,
    );
    const r = await runCli(['run', pb, '--junit', join(dir, 'j.xml'), '--json', join(dir, 'r.json')]);
    expect(r.code, r.stderr).toBe(3);
    const rep = readReport(join(dir, 'r.json'));
    expect(rep.hosts).toEqual({ a: 'cancelled', b: 'failed', c: 'cancelled' });
    expect(rep.steps.map((s) => [s.status, s.targets, Object.keys(s.results)])).toEqual([
      ['aborted', ['a', 'b', 'c'], ['a', 'b']],
      ['not_run', ['a', 'c'], []],
    ]);
    const els = assertWellFormedXml(readFileSync(join(dir, 'j.xml'), 'utf8'));
    const cases = els.filter((e) => e.name === 'testcase').map((c) => c.attrs.name);
    expect(cases).toEqual(['a', 'b', 'c', 'a', 'c']);
    expect(els.filter((e) => e.name === 'skipped')).toHaveLength(3);
  });

  it('--events writes JSON Lines in run order', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: ping\n  - call: ping\n    on: a\n`);
    const r = await runCli(['run', pb, '--events', join(dir, 'ev.jsonl')]);
    expect(r.code).toBe(0);
    const events = readFileSync(join(dir, 'ev.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step?: number; host?: string; ts: string });
    expect(events[0]!.type).toBe('run_started');
    expect(events.at(-1)!.type).toBe('run_finished');
    const skeleton = events.filter((e) => e.type.startsWith('step_')).map((e) => `${e.type}:${e.step}`);
    expect(skeleton).toEqual(['step_started:0', 'step_finished:0', 'step_started:1', 'step_finished:1']);
    // Every host result of a step lies between its start and finish.
    const idx = (t: string, s: number) => events.findIndex((e) => e.type === t && e.step === s);
    for (const [i, e] of events.entries()) {
      if (e.type !== 'host_result') continue;
      expect(i).toBeGreaterThan(idx('step_started', e.step!));
      expect(i).toBeLessThan(idx('step_finished', e.step!));
    }
    expect(events.filter((e) => e.type === 'host_result')).toHaveLength(4);
    const ts = events.map((e) => Date.parse(e.ts));
    expect([...ts].sort((x, y) => x - y)).toEqual(ts);
  });

  it('--events streams as the run goes: a step in progress is already in the file', async () => {
    dir = tempDir();
    const ev = join(dir, 'ev.jsonl');
    const pb = writePlaybook(dir, `${THREE}steps:\n  - call: ping\n  - call: shell\n    args: { cmd: 'sleep 3' }\n`);
    const { done } = startCli(['run', pb, '--events', ev]);
    let exited = false;
    void done.then(() => (exited = true));
    const seen = await waitFor(() => {
      try {
        return readFileSync(ev, 'utf8').includes('"type":"step_started","step":1');
      } catch {
        return false;
      }
    }, 10_000);
    expect(seen).toBe(true);
    expect(exited).toBe(false);
    expect(readFileSync(ev, 'utf8')).not.toContain('run_finished');
    expect((await done).code).toBe(0);
  });
});

describe('inventory and --var', () => {
  it('hosts, groups and vars come from --inventory; --var overrides a var', async () => {
    dir = tempDir();
    const inv = writePlaybook(
      dir,
      `hosts:\n  i1: local\n  i2: { transport: local, vars: { role: db } }\ngroups:\n  inv: [i1, i2]\nvars:\n  release: "1.0"\n  greeting: hello\n`,
      'inv.yaml',
    );
    const pb = writePlaybook(
      dir,
      `version: 1\nsteps:\n  - call: command\n    args: { argv: [echo, "{vars.greeting} {vars.release} {host}"] }\n    on: inv\n`,
    );
    const r = await runCli(['run', pb, '--inventory', inv, '--var', 'release=2.0', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    expect(rep.steps[0]!.results.i1).toMatchObject({ ok: true, value: { stdout: 'hello 2.0 i1\n' } });
    expect(rep.steps[0]!.results.i2).toMatchObject({ ok: true, value: { stdout: 'hello 2.0 i2\n' } });
    expect(rep.groups.inv).toEqual(['i1', 'i2']);
  });
});
