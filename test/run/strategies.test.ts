/**
 * Strategies (docs/language.md#strategies-and-rolling-batches) through the CLI on local hosts: linear, free, serial batches. The hosts
 * write their own timestamps (nanoseconds, from `date`), so ordering is checked where the work
 * happened, not from the controller's view.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, ensureBuilt, parseReport, runCli, tempDir, writePlaybook } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

/** A step that logs `begin`/`end` with a timestamp to a per-host file, sleeping `{hostvars.dN}` between. */
function timedStep(n: number, on = ''): string {
  return `  - name: step${n}
    call: shell
    args: { cmd: 'echo "${n} begin $(date +%s%N)" >> ${dir}/log-{host}; sleep {hostvars.d${n}}; echo "${n} end $(date +%s%N)" >> ${dir}/log-{host}' }
${on ? `    on: ${on}\n` : ''}`;
}

/** host → step → {begin, end} in ns (as numbers of ms with fractions; enough for ordering). */
function readLogs(hosts: string[]): Record<string, Record<number, { begin: number; end: number }>> {
  const out: Record<string, Record<number, { begin: number; end: number }>> = {};
  for (const h of hosts) {
    out[h] = {};
    for (const line of readFileSync(join(dir, `log-${h}`), 'utf8')
      .trim()
      .split('\n')) {
      const [n, what, ns] = line.split(' ');
      const rec = (out[h][Number(n)] ??= { begin: NaN, end: NaN });
      rec[what as 'begin' | 'end'] = Number(BigInt(ns!) / 1000n) / 1000;
    }
  }
  return out;
}

function hostLine(name: string, delays: number[]): string {
  return `  ${name}: { transport: local, vars: { ${delays.map((d, i) => `d${i + 1}: "${d}"`).join(', ')} } }`;
}

describe('strategy: linear', () => {
  it('step N finishes on every host before step N+1 starts on any', async () => {
    dir = tempDir();
    // Staggered delays: with no barrier, h3 would start step 2 long before h1 ends step 1.
    const hosts = { h1: [0.6, 0, 0.2], h2: [0.3, 0.3, 0], h3: [0, 0.6, 0.1] };
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n${Object.entries(hosts)
        .map(([n, d]) => hostLine(n, d))
        .join('\n')}\nsteps:\n${timedStep(1)}${timedStep(2)}${timedStep(3)}`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const logs = readLogs(Object.keys(hosts));
    for (const n of [1, 2]) {
      const lastEnd = Math.max(...Object.values(logs).map((l) => l[n]!.end));
      const firstBegin = Math.min(...Object.values(logs).map((l) => l[n + 1]!.begin));
      expect(firstBegin, `step ${n + 1} began before step ${n} ended everywhere`).toBeGreaterThanOrEqual(lastEnd);
    }
  });
});

describe('strategy: free', () => {
  it('a fast host finishes every step before a slow host finishes step 1', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\nstrategy: free\nhosts:\n${hostLine('slow', [3, 0, 0])}\n${hostLine('fast', [0, 0, 0])}\nsteps:\n${timedStep(1)}${timedStep(2)}${timedStep(3)}`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const logs = readLogs(['slow', 'fast']);
    expect(logs.fast![3]!.end).toBeLessThan(logs.slow![1]!.end);
    const rep = parseReport(r.stdout);
    expect(rep.steps.map((s) => s.targets)).toEqual([
      ['slow', 'fast'],
      ['slow', 'fast'],
      ['slow', 'fast'],
    ]);
    expect(rep.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('set algebra is decided per host: a host failing step 1 is dropped without holding the others', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\nstrategy: free\nhosts:\n${hostLine('a', [0.8, 0])}\n${hostLine('b', [0, 0])}\n${hostLine('c', [0, 0])}\nsteps:
  - call: shell
    args: { cmd: 'test {host} != b' }
    register: first
${timedStep(1, 'ok(first)')}  - call: ping
    on: failed(first)
`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(2);
    const rep = parseReport(r.stdout);
    expect(rep.steps[1]!.targets).toEqual(['a', 'c']);
    expect(rep.steps[2]!.targets).toEqual(['b']);
    expect(rep.hosts).toEqual({ a: 'ok', b: 'failed', c: 'ok' });
  });
});

describe('serial batches', () => {
  const five = ['h1', 'h2', 'h3', 'h4', 'h5'];

  async function batchesOf(serial: string): Promise<string[][]> {
    const pb = writePlaybook(
      dir,
      `version: 1\nserial: ${serial}\nhosts:\n${five.map((h) => `  ${h}: local`).join('\n')}\nsteps:\n  - call: ping\n`,
    );
    const r = await runCli(['run', pb, '--events', join(dir, 'ev.jsonl'), '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rep = parseReport(r.stdout);
    expect(rep.steps[0]!.targets).toEqual(five);
    expect(Object.keys(rep.steps[0]!.results)).toEqual(five);
    return readFileSync(join(dir, 'ev.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; hosts?: string[] })
      .filter((e) => e.type === 'batch_started')
      .map((e) => e.hosts!);
  }

  it('[1, "50%"] makes batches of 1, then 2 (50% of 5, rounded down) repeated', async () => {
    dir = tempDir();
    expect(await batchesOf('[1, "50%"]')).toEqual([['h1'], ['h2', 'h3'], ['h4', 'h5']]);
  });

  it('a count and a percent', async () => {
    dir = tempDir();
    expect(await batchesOf('2')).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
    cleanup(dir);
    dir = tempDir();
    expect(await batchesOf('"40%"')).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
    cleanup(dir);
    dir = tempDir();
    // 10% of 5 rounds down to 0: a batch is never smaller than one host.
    expect(await batchesOf('"10%"')).toEqual(five.map((h) => [h]));
  });

  it('each batch runs the whole playbook before the next batch starts', async () => {
    dir = tempDir();
    const hosts = { h1: [0.3, 0.3], h2: [0, 0], h3: [0, 0] };
    const pb = writePlaybook(
      dir,
      `version: 1\nserial: 1\nhosts:\n${Object.entries(hosts)
        .map(([n, d]) => hostLine(n, d))
        .join('\n')}\nsteps:\n${timedStep(1)}${timedStep(2)}`,
    );
    const r = await runCli(['run', pb]);
    expect(r.code, r.stderr).toBe(0);
    const logs = readLogs(Object.keys(hosts));
    expect(logs.h2![1]!.begin).toBeGreaterThanOrEqual(logs.h1![2]!.end);
    expect(logs.h3![1]!.begin).toBeGreaterThanOrEqual(logs.h2![2]!.end);
  });

  it('a batch that aborts stops the run: later batches never start and their hosts are cancelled', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\nserial: 2\nhosts:\n${five.map((h) => `  ${h}: local`).join('\n')}\nsteps:
  - call: shell
    args: { cmd: 'touch ${dir}/ran-{host}; test {host} != h3' }
    on_failure: abort
  - call: ping
`,
    );
    const r = await runCli(['run', pb, '--json', '-']);
    expect(r.code, r.stderr).toBe(3);
    const rep = parseReport(r.stdout);
    expect(rep.status).toBe('aborted');
    expect(rep.hosts).toEqual({ h1: 'ok', h2: 'ok', h3: 'failed', h4: 'cancelled', h5: 'cancelled' });
    expect(Object.keys(rep.steps[0]!.results)).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(Object.keys(rep.steps[1]!.results)).toEqual(['h1', 'h2']);
    const ran = ['h1', 'h2', 'h3', 'h4', 'h5'].filter((h) => {
      try {
        readFileSync(join(dir, `ran-${h}`));
        return true;
      } catch {
        return false;
      }
    });
    expect(ran).toEqual(['h1', 'h2', 'h3', 'h4']);
  });
});

describe('concurrency', () => {
  /** Most hosts inside the step at one moment, from the hosts' own begin/end stamps. */
  function maxOverlap(hosts: string[], step: number): number {
    const logs = readLogs(hosts);
    const edges = hosts.flatMap((h) => [
      { t: logs[h]![step]!.begin, d: 1 },
      { t: logs[h]![step]!.end, d: -1 },
    ]);
    edges.sort((x, y) => x.t - y.t || x.d - y.d);
    let cur = 0;
    let max = 0;
    for (const e of edges) max = Math.max(max, (cur += e.d));
    return max;
  }
  const six = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];

  it("--concurrency N bounds the hosts working at once; a step's concurrency bounds that step", async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1\nhosts:\n${six.map((h) => hostLine(h, [0.3, 0.3])).join('\n')}\nsteps:\n${timedStep(1)}${timedStep(2)}    concurrency: 1\n`,
    );
    const r = await runCli(['run', pb, '--concurrency', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(maxOverlap(six, 1)).toBe(2);
    expect(maxOverlap(six, 2)).toBe(1);
  });

  it('without limits every host works at once', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, `version: 1\nhosts:\n${six.map((h) => hostLine(h, [1.5])).join('\n')}\nsteps:\n${timedStep(1)}`);
    const r = await runCli(['run', pb]);
    expect(r.code, r.stderr).toBe(0);
    expect(maxOverlap(six, 1)).toBe(6);
  });
});
