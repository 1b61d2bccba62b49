/**
 * Finding: remote stderr without newlines was quadratic in time and unbounded in memory (16 MiB:
 * 14 s and 449 MB; 200 MiB: over 10 minutes, 1.4 GB) and the controller ignored SIGINT meanwhile.
 * Expected: linear time, bounded memory, a cut line said so, signals handled at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STDERR_LINE, StderrLines } from '../../src/transports/stderr-lines.js';
import { cleanup, ensureBuilt, readReport, startCli, tempDir, writePlaybook } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) cleanup(dir);
});

/** Highest resident memory of `pid` so far (VmHWM), in MB; polled until it exits. */
function watchPeakRss(pid: number): { peak: () => number; stop: () => void } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  }, 50);
  return { peak: () => peak, stop: () => clearInterval(t) };
}

function floodPlaybook(mib: number): string {
  return `version: 1
hosts:
  h1: local
steps:
  - call: shell
    args: { cmd: "head -c ${mib * 1024 * 1024} /dev/zero | tr '\\\\0' x >&2; printf '\\\\ntail line\\\\n' >&2" }
`;
}

describe('faults: a flood of stderr without newlines', () => {
  it('StderrLines: whole lines only, a long line cut once and said so, the rest of it dropped', () => {
    const got: string[] = [];
    const l = new StderrLines((t) => got.push(t));
    l.write('a\nb');
    l.write('c\n');
    for (let i = 0; i < 100; i++) l.write('x'.repeat(4096));
    l.write('y\nlast');
    l.end('');
    const text = got.join('');
    expect(text.split('\n')).toEqual(['a', 'bc', `${'x'.repeat(MAX_STDERR_LINE)} … [line cut at 64 KiB]`, 'last']);
    // Nothing is emitted until a line is complete.
    expect(got.every((t, i) => t.endsWith('\n') || i === got.length - 1)).toBe(true);
  });

  it('128 MiB in one line: linear time, bounded memory, the line cut and said so', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, floodPlaybook(128));
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report, '--output', 'plain'], { timeoutMs: 120_000 });
    const rss = watchPeakRss(child.pid!);
    const r = await done;
    rss.stop();
    console.log(`[faults] 128 MiB stderr line: ${r.ms} ms, peak RSS ${rss.peak().toFixed(0)} MB`);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.ms).toBeLessThan(30_000);
    expect(rss.peak()).toBeLessThan(300);
    const out = r.stdout + r.stderr;
    expect(out).toContain('[line cut at 64 KiB]');
    expect(out).toContain('tail line');
    // The echo holds the cut line (64 KiB) and not the 128 MiB.
    expect(out.length).toBeLessThan(1024 * 1024);
    const res = readReport(report).steps[0]!.results.h1!;
    expect(res.ok).toBe(true);
  }, 150_000);

  it('SIGINT during the flood is handled at once', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, floodPlaybook(8192));
    const report = join(dir, 'r.json');
    const { child, done } = startCli(['run', pb, '--json', report, '--output', 'plain'], { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 5_000));
    const sent = Date.now();
    child.kill('SIGINT');
    const r = await done;
    const took = Date.now() - sent;
    console.log(`[faults] SIGINT during a 8 GiB stderr flood: exited ${took} ms after the signal`);
    expect(r.code, r.stderr.slice(-2000)).toBe(130);
    expect(took).toBeLessThan(5_000);
    expect(readReport(report).status).toBe('interrupted');
  }, 150_000);
});
