/**
 * Long chains must not overflow the stack or take quadratic time: groups made of groups, and
 * bastions reached through bastions (validation and the compiler walk them without recursion).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { compile } from '../../src/compile/index.js';
import { formatProblem } from '../../src/errors.js';
import { loadPlaybook } from '../../src/validate/index.js';

function write(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'chop-scale-')), 'pb.yaml');
  writeFileSync(p, text);
  return p;
}

it('a chain of 5,000 groups validates and compiles', async () => {
  const n = 5000;
  const groups = Array.from({ length: n }, (_, i) => `  g${i}: ${i === 0 ? '[h]' : `"g${i - 1}"`}`).join('\n');
  const r = await loadPlaybook(write(`version: 1\nhosts: { h: local }\ngroups:\n${groups}\nsteps:\n  - call: ping\n    on: g${n - 1}\n`));
  expect(r.problems.map(formatProblem)).toEqual([]);
  expect(compile(r.playbook!).steps[0]!.targets.upper).toEqual(['h']);
}, 60_000);

it('a cycle through 3,000 groups is reported once, naming it', async () => {
  const n = 3000;
  const groups = Array.from({ length: n }, (_, i) => `  g${i}: "g${(i + 1) % n}"`).join('\n');
  const r = await loadPlaybook(write(`version: 1\nhosts: { h: local }\ngroups:\n${groups}\nsteps:\n  - call: ping\n`));
  const cycles = r.problems.filter((p) => p.code === 'cycle');
  expect(cycles).toHaveLength(1);
  expect(cycles[0]!.message).toMatch(/^groups form a cycle: g0 -> g1 -> .* -> g2999 -> g0;/);
}, 60_000);

it('a 3,000-host jump chain validates in seconds, and a jump cycle is named', async () => {
  const n = 3000;
  const hosts = Array.from({ length: n }, (_, i) => `  b${i}: { transport: ssh, host: 127.0.0.1${i ? `, jump: b${i - 1}` : ''} }`).join(
    '\n',
  );
  // CPU time, not wall time: the machine running the tests may be busy. Quadratic or worse
  // walks of the chain took tens of seconds here.
  const cpu0 = process.cpuUsage();
  const r = await loadPlaybook(write(`version: 1\nhosts:\n${hosts}\nsteps:\n  - call: ping\n`));
  expect(r.problems.map(formatProblem)).toEqual([]);
  const cpu = process.cpuUsage(cpu0);
  expect((cpu.user + cpu.system) / 1000).toBeLessThan(10_000);
  const cyc = await loadPlaybook(
    write(
      'version: 1\nhosts:\n  a: { transport: ssh, host: x, jump: b }\n  b: { transport: ssh, host: y, jump: a }\nsteps:\n  - call: ping\n',
    ),
  );
  expect(cyc.problems.map((p) => p.message)).toEqual(['jump hosts form a cycle: a -> b -> a']);
}, 60_000);
