/**
 * Hostile playbooks, one fixture file each under test/fixtures/hostile/, named for what it
 * attacks. Each must end as problems with FILE:LINE:COL (exit 4) or as a correct playbook, in
 * bounded time, never as an internal error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planPlaybook } from '../../src/api.js';
import { planToJson } from '../../src/compile/plan-json.js';
import { formatProblem, PlaybookInvalidError } from '../../src/errors.js';
import { MAX_ALIAS_COUNT } from '../../src/parse/parse-yaml.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';
import { runCli } from '../cli/helpers.js';

const DIR = 'test/fixtures/hostile';

/** `LINE:COL: message` of every problem of a fixture (all must be in the fixture itself). */
async function problemsOf(name: string): Promise<string[]> {
  const file = `${DIR}/${name}`;
  const r = await loadPlaybook(file);
  return r.problems.map((p) => {
    expect(p.pos.file).toBe(file);
    return formatProblem(p).slice(file.length + 1);
  });
}

/** CPU milliseconds (this process), which a loaded machine inflates far less than wall time. */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const c0 = process.cpuUsage();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, ms: (c.user + c.system) / 1000 };
}

describe('hostile YAML', () => {
  it('self-anchor.yaml: an alias inside its own anchor is a problem at the alias', async () => {
    expect(await problemsOf('self-anchor.yaml')).toEqual([
      '4:14: alias *a is inside the value anchored &a, so that value would contain itself; write the inner value out instead',
    ]);
  });

  it('self-anchor-nested.yaml: also when the alias is deep inside the anchored value', async () => {
    expect(await problemsOf('self-anchor-nested.yaml')).toEqual([
      '8:15: alias *t is inside the value anchored &t, so that value would contain itself; write the inner value out instead',
    ]);
  });

  it('self-anchor.yaml: plan exits 4, not with a circular-JSON internal error', async () => {
    const r = await runCli(['plan', '--json', `${DIR}/self-anchor.yaml`]);
    expect(r.stderr).toContain(`${DIR}/self-anchor.yaml:4:14: alias *a`);
    expect(r.code).toBe(4);
  });

  it('alias-flood.yaml: 10,000 aliases of one anchor are refused in well under a second', async () => {
    await loadPlaybook(`${DIR}/self-anchor.yaml`); // warm up module loading
    const { value, ms } = await timed(() => problemsOf('alias-flood.yaml'));
    expect(value).toEqual([
      `6:${10 + 6 * MAX_ALIAS_COUNT}: too many YAML alias expansions (limit ${MAX_ALIAS_COUNT}); this looks like an alias bomb: write the values out or use fewer aliases`,
    ]);
    expect(ms).toBeLessThan(1000);
  });

  it('braces-in-block-scalar.yaml: "{" characters in a scalar are text, not nesting', async () => {
    const r = await loadPlaybook(`${DIR}/braces-in-block-scalar.yaml`);
    expect(r.problems).toEqual([]);
    expect(r.playbook!.vars.braces).toBe('{'.repeat(100_000) + '\n');
  });

  it('collection-key.yaml: a list as a mapping key is a problem at the key', async () => {
    expect(await problemsOf('collection-key.yaml')).toEqual([
      '5:5: mapping keys must be plain strings, not a list or mapping; write this key as a string',
    ]);
  });

  it('flow-collection-key.yaml: a flow list as a key too', async () => {
    expect(await problemsOf('flow-collection-key.yaml')).toEqual([
      '4:7: mapping keys must be plain strings, not a list or mapping; write this key as a string',
    ]);
  });

  it('alias-collection-key.yaml: an alias to a list as a key too', async () => {
    expect(await problemsOf('alias-collection-key.yaml')).toEqual([
      '5:8: mapping keys must be plain strings, not a list or mapping; write this key as a string',
    ]);
  });

  it('collection-key.yaml: validate prints the problem and nothing from the yaml library', async () => {
    const r = await runCli(['validate', `${DIR}/collection-key.yaml`]);
    expect(r.code).toBe(4);
    expect(r.stderr).not.toMatch(/Warning|stringified/);
    expect(r.stderr).toContain(`${DIR}/collection-key.yaml:5:5: mapping keys must be plain strings`);
  });

  // The reported case was 10 MB (100,000 vars of 80 characters); the cost was in the number of keys.
  it('100,000 vars validate in a few seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-hostile-'));
    const file = join(dir, 'many-vars.yaml');
    const lines = ['version: 1', 'hosts: { a: local }', 'vars:'];
    for (let i = 0; i < 100_000; i++) lines.push(`  var_${String(i).padStart(6, '0')}: "${'x'.repeat(8)}"`);
    lines.push('steps:', '  - call: ping');
    writeFileSync(file, lines.join('\n') + '\n');
    const { value, ms } = await timed(() => loadPlaybook(file));
    expect(value.problems).toEqual([]);
    expect(Object.keys(value.playbook!.vars)).toHaveLength(100_000);
    // Minutes before (a duplicate-key check comparing each key with every earlier one).
    expect(ms).toBeLessThan(10_000);
  }, 120_000);

  it('a duplicate among 100,000 vars is still found, at the second one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-hostile-'));
    const file = join(dir, 'dup.yaml');
    const lines = ['version: 1', 'hosts: { a: local }', 'vars:'];
    for (let i = 0; i < 100_000; i++) lines.push(`  v${i}: 1`);
    lines.push('  v7: 2', 'steps:', '  - call: ping');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await loadPlaybook(file);
    expect(r.problems.map(formatProblem)).toEqual([
      `${file}:100004:3: duplicate key 'v7': a key may appear only once in a mapping; remove or rename one`,
    ]);
  }, 120_000);
});

describe('hostile values', () => {
  it('timeout-25-days.yaml: a timeout past the timer limit is refused at its key', async () => {
    expect(await problemsOf('timeout-25-days.yaml')).toEqual([
      '6:5: timeout: "25d" is longer than 2^31-1 ms (about 24.8 days), the longest wait Chopsticks can time; give a shorter duration or leave timeout out for no limit',
    ]);
  });

  it('retry-delay-30-days.yaml: so is a retry_delay in defaults', async () => {
    expect(await problemsOf('retry-delay-30-days.yaml')).toEqual([
      '4:3: retry_delay: "30d" is longer than 2^31-1 ms (about 24.8 days), the longest wait Chopsticks can time; give a shorter duration',
    ]);
  });

  it('keepalive-huge-number.yaml: numbers of seconds too (1e300 and just past the limit)', async () => {
    expect(await problemsOf('keepalive-huge-number.yaml')).toEqual([
      '3:41: keepalive: 1e+300 is longer than 2^31-1 ms (about 24.8 days), the longest wait Chopsticks can time; give a shorter duration',
      '3:59: connect_timeout: 2147484 is longer than 2^31-1 ms (about 24.8 days), the longest wait Chopsticks can time; give a shorter duration',
    ]);
  });

  it('nul-in-argv.yaml: a NUL in a command argument is a problem at that argument', async () => {
    expect(await problemsOf('nul-in-argv.yaml')).toEqual([
      "6:28: command: arg 'argv.1' contains a NUL character (\\0), which no program argument, path or environment variable can hold; remove it",
    ]);
  });

  it('nul-in-paths.yaml: NUL in paths and shell commands too, but not in stdin', async () => {
    expect(await problemsOf('nul-in-paths.yaml')).toEqual([
      "3:31: 'hosts.a.cwd' contains a NUL character (\\0), which no program argument, path or environment variable can hold; remove it",
      "6:18: shell: arg 'cmd' contains a NUL character (\\0), which no program argument, path or environment variable can hold; remove it",
      "7:10: 'steps[1].put' contains a NUL character (\\0), which no program argument, path or environment variable can hold; remove it",
    ]);
  });

  it('a NUL that only a template fills in at run time stays a run-time matter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-hostile-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      'version: 1\nhosts: { a: local }\nsteps:\n  - call: facts.hostname\n    register: h\n  - call: command\n    args: { argv: ["echo", "{results.h}"] }\n',
    );
    expect((await loadPlaybook(file)).problems).toEqual([]);
  });

  it('docker-image-without-ephemeral.yaml: image needs ephemeral: true, as the docs say', async () => {
    expect(await problemsOf('docker-image-without-ephemeral.yaml')).toEqual([
      "3:27: docker host 'd': image makes a container for the run, which needs ephemeral: true; add ephemeral: true (or use container: for an existing one)",
    ]);
  });
});

describe('the plan of a valid playbook with anchors is plain JSON', () => {
  it('shared (non-circular) aliases are fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-hostile-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'version: 1\nhosts: { a: local }\nvars:\n  c: &c { k: [1, 2] }\n  d: *c\n  e: [*c, *c]\nsteps:\n  - call: ping\n');
    try {
      const plan = await planPlaybook(file);
      expect((JSON.parse(planToJson(plan)) as { vars: unknown }).vars).toEqual({
        c: { k: [1, 2] },
        d: { k: [1, 2] },
        e: [{ k: [1, 2] }, { k: [1, 2] }],
      });
    } catch (e) {
      if (e instanceof PlaybookInvalidError) throw new Error(e.message, { cause: e });
      throw e;
    }
  });
});
