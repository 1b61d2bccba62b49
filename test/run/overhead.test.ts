/**
 * Measure: per-step overhead of the executor through the real CLI — 100 steps of `call: ping` on
 * 20 local hosts (linear strategy, so each step is a barrier across all 20). The start-up cost is
 * measured apart (one step on one host) and taken off. The numbers are printed; the bound is
 * loose (2 shared cores) and only catches an order-of-magnitude regression.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanup, ensureBuilt, names, parseReport, runCli, tempDir, writePlaybook } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

const dir = tempDir();
afterAll(() => cleanup(dir));

const STEPS = 100;
const HOSTS = names('h', 20, 2);

it(`per-step overhead: ${STEPS} steps of ping on ${HOSTS.length} local hosts`, async () => {
  const hostLines = (hs: string[]) => hs.map((h) => `  ${h}: local`).join('\n');
  const one = writePlaybook(dir, `version: 1\nhosts:\n${hostLines(HOSTS.slice(0, 1))}\nsteps:\n  - call: ping\n`, 'one.yaml');
  const many = writePlaybook(dir, `version: 1\nhosts:\n${hostLines(HOSTS)}\nsteps:\n${'  - call: ping\n'.repeat(STEPS)}`, 'many.yaml');
  const base = await runCli(['run', one, '--output', 'quiet']);
  expect(base.code, base.stderr).toBe(0);
  const r = await runCli(['run', many, '--output', 'quiet', '--json', '-'], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const rep = parseReport(r.stdout);
  expect(rep.steps).toHaveLength(STEPS);
  expect(rep.steps.every((s) => Object.keys(s.results).length === HOSTS.length)).toBe(true);

  const perStep = (r.ms - base.ms) / STEPS;
  const perHostOp = (r.ms - base.ms) / (STEPS * HOSTS.length);
  const inRun = rep.duration_ms / STEPS;
  console.log(
    `[overhead] ${STEPS} steps x ${HOSTS.length} local hosts: wall ${r.ms} ms (start-up ${base.ms} ms); ` +
      `${perStep.toFixed(1)} ms per step, ${perHostOp.toFixed(2)} ms per host-step; ` +
      `executor alone (report duration_ms) ${inRun.toFixed(1)} ms per step`,
  );
  // 250: commands now pass through the session watcher (a `dd` relay, so a command dies with its
  // session: docs/transports.md), which costs about 45 ms per step here with the whole suite
  // running beside it (160 ms measured). Still an order-of-magnitude guard; making the relay
  // cheaper is open work (the closing note of this change).
  expect(perStep).toBeLessThan(250);
}, 180_000);
