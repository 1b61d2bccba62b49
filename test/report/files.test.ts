import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Ajv2020, type SchemaObject } from 'ajv/dist/2020.js';
import { JunitReporter, junitXml } from '../../src/report/junit.js';
import { EventsReporter } from '../../src/report/events.js';
import { JsonReporter } from '../../src/report/json.js';
import { buildReport } from '../../src/report/build-report.js';
import { createReporters } from '../../src/report/index.js';
import { PlainReporter } from '../../src/report/plain.js';
import { TtyReporter } from '../../src/report/tty.js';
import { UsageError } from '../../src/errors.js';
import type { Reporter, RunEvent } from '../../src/run/events.js';
import { Capture } from './capture.js';
import { fleetRun, web40 } from './fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8')) as SchemaObject;
const validate = new Ajv2020({ strict: true }).compile(schema);

async function feed(r: Reporter, events: RunEvent[]): Promise<void> {
  for (const e of events) r.onEvent(e);
  await r.close();
}

const tmp = () => mkdtempSync(join(tmpdir(), 'chopsticks-report-'));

/** Minimal structural XML check: every opened element is closed in order. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const body = xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  // nothing that looks like a tag should be left unmatched
  return stack.length === 0 && !/<(?![?!/A-Za-z])/.test(body);
}

describe('JUnit XML', () => {
  it('has a suite per step, a case per host, failures and skips', async () => {
    const dir = tmp();
    const path = join(dir, 'junit.xml');
    await feed(new JunitReporter(path, new Capture()), fleetRun().events);
    const xml = readFileSync(path, 'utf8');
    expect(wellFormed(xml)).toBe(true);
    const suites = [...xml.matchAll(/<testsuite [^>]*name="([^"]*)"/g)].map((m) => m[1]);
    expect(suites).toEqual(['1. call ping', '2. call shell', '3. filter test', '4. put app.tgz']);
    const cases = [...xml.matchAll(/<testcase [^>]*classname="call ping" name="([^"]+)"/g)].map((m) => m[1]);
    expect(cases).toEqual(web40);
    expect(xml).toMatch(
      /<testcase classname="call ping" name="web39" time="0.007">\s*<failure message="unreachable: web39: connection refused \(10.0.0.39:22\)" type="unreachable"\/>/,
    );
    expect((xml.match(/<failure /g) ?? []).length).toBe(1);
    expect(xml).toMatch(/<testsuite name="1. call ping"[^>]* tests="40" failures="1" errors="0" skipped="0"/);
    // only the report file, no temp file left behind
    expect(readdirSync(dir)).toEqual(['junit.xml']);
  });

  it('marks check-mode skips as skipped and escapes XML in messages', () => {
    const { events } = fleetRun();
    const r = buildReport(events);
    r.steps[0]!.results.web01 = { ok: true, value: null, changed: false, duration_ms: 0, skipped: true };
    r.steps[0]!.results.web02 = {
      ok: false,
      error: { kind: 'failed', msg: 'exit 1: <oops> & "quotes"', tb: 'line1\nline2' },
      duration_ms: 1500,
    };
    const xml = junitXml(r);
    expect(wellFormed(xml)).toBe(true);
    expect(xml).toMatch(/name="web01" time="0">\s*<skipped\/>/);
    expect(xml).toContain('message="failed: exit 1: &lt;oops> &amp; &quot;quotes&quot;" type="failed"><![CDATA[line1\nline2]]>');
    expect(xml).toMatch(/name="web02" time="1.5"/);
  });
});

describe('--events JSON Lines', () => {
  it('writes one JSON line per event, in order, with a plan summary only', async () => {
    const path = join(tmp(), 'events.jsonl');
    const { events } = fleetRun();
    const r = new EventsReporter(path, new Capture());
    r.onEvent(events[0]!);
    // flushed per line: readable before the run ends
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    for (const e of events.slice(1)) r.onEvent(e);
    await r.close();
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(events.map((e) => e.type));
    const first = lines[0]!;
    expect(first).not.toHaveProperty('plan');
    expect(first).toMatchObject({ type: 'run_started', playbook: 'playbooks/deploy.yaml', hosts: web40 });
    expect((first.steps as unknown[]).length).toBe(4);
    expect(lines.every((l) => typeof l.ts === 'string')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'run_finished', status: 'failed' });
  });

  it('refuses a path it cannot open before the run, as a usage error', () => {
    expect(() => new EventsReporter('/nonexistent-dir/x/events.jsonl', new Capture())).toThrow(UsageError);
  });
});

describe('--json report', () => {
  it('writes a schema-valid report atomically to a file', async () => {
    const dir = tmp();
    const path = join(dir, 'report.json');
    await feed(new JsonReporter(path, new Capture(), new Capture()), fleetRun().events);
    const report: unknown = JSON.parse(readFileSync(path, 'utf8'));
    expect(validate(report)).toBe(true);
    expect(readdirSync(dir)).toEqual(['report.json']);
  });

  it("with '-' puts the report alone on stdout and human output on stderr", async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const reporters = await createReporters({
      output: 'auto',
      json: '-',
      stdout: stdout.asWriteStream(),
      stderr: stderr.asWriteStream(),
      env: {},
    });
    expect(reporters.some((r) => r instanceof PlainReporter)).toBe(true);
    for (const e of fleetRun().events) for (const r of reporters) r.onEvent(e);
    await Promise.all(reporters.map((r) => r.close()));
    const report: unknown = JSON.parse(stdout.text);
    expect(validate(report)).toBe(true);
    expect(stderr.text).toContain('▶ [1/4] call ping on web[01-40]');
    expect(stderr.text).toContain('run failed:');
  });

  it('refuses a report path in a missing folder before the run', async () => {
    const io = { stdout: new Capture().asWriteStream(), stderr: new Capture().asWriteStream() };
    await expect(createReporters({ output: 'plain', json: '/nonexistent-dir/r.json', ...io })).rejects.toThrow(
      /--json \/nonexistent-dir\/r.json/,
    );
    await expect(createReporters({ output: 'plain', junit: '/nonexistent-dir/j.xml', ...io })).rejects.toThrow(UsageError);
    expect(existsSync('/nonexistent-dir')).toBe(false);
  });

  it('a write failure at close is said on stderr, never thrown', async () => {
    const dir = tmp();
    const stderr = new Capture();
    // the target is a directory: rename fails
    const r = new JsonReporter(dir, new Capture(), stderr);
    await expect(feed(r, fleetRun().events)).resolves.toBeUndefined();
    expect(stderr.text).toMatch(/json report .* failed/);
  });
});

describe('createReporters', () => {
  const streams = (tty: boolean) => {
    const stdout = new Capture();
    stdout.isTTY = tty;
    return { stdout: stdout.asWriteStream(), stderr: new Capture().asWriteStream() };
  };
  it('auto: the terminal view in a terminal, plain in CI or a pipe', async () => {
    expect((await createReporters({ output: 'auto', ...streams(true), env: {} }))[0]).toBeInstanceOf(TtyReporter);
    expect((await createReporters({ output: 'auto', ...streams(true), env: { CI: 'true' } }))[0]).toBeInstanceOf(PlainReporter);
    expect((await createReporters({ output: 'auto', ...streams(false), env: {} }))[0]).toBeInstanceOf(PlainReporter);
    expect((await createReporters({ output: 'tty', ...streams(false), env: {} }))[0]).toBeInstanceOf(TtyReporter);
  });
  it('adds one reporter per requested file, events first so it sees each event before the others', async () => {
    const dir = tmp();
    const rs = await createReporters({
      output: 'quiet',
      json: join(dir, 'r.json'),
      junit: join(dir, 'j.xml'),
      events: join(dir, 'e.jsonl'),
      ...streams(false),
      env: {},
    });
    expect(rs.map((r) => r.constructor.name)).toEqual(['EventsReporter', 'PlainReporter', 'JsonReporter', 'JunitReporter']);
  });
});
