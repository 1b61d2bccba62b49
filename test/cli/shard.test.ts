/**
 * --shard I/N on run and plan, report merge and report rendering, through the real CLI on
 * local hosts (the same flow over ssh: test/e2e/shard-ssh.test.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostsInShard } from '../../src/lang/shard.js';
import { comparable } from '../support/report-compare.js';
import { cleanup, ensureBuilt, localHosts, names, readReport, runCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const HOSTS = names('web', 12, 2);

function fleet(steps: string, head = ''): string {
  return `version: 1
name: sharded
${head}hosts:
${localHosts(HOSTS)}
  db1: { transport: local }
groups:
  web: "'web*'"
steps:
${steps}`;
}

const STEPS = `  - call: facts.hostname
  - call: shell
    args: { cmd: "if [ {host} = web03 ]; then echo 'web03 is broken' >&2; exit 3; fi; echo {host}" }
    on: web
  - call: ping
`;

describe('--shard I/N', () => {
  it('plan --shard shows which hosts a shard gets; the shards split the fleet', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, fleet(STEPS));
    const all = [...HOSTS, 'db1'];
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const mine = hostsInShard(all, { index: i, count: 3 });
      const text = await runCli(['plan', pb, '--shard', `${i}/3`]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^  shard: ${i}/3: ${mine.length} of 13 hosts: `, 'm'));
      expect(text.stdout).toContain(`on       all & shard(${i}/3)`);
      const json = await runCli(['plan', pb, '--shard', `${i}/3`, '--json']);
      const data = JSON.parse(json.stdout) as {
        shard: { index: number; count: number; hosts: string[] };
        steps: Array<{ targets: { upper: string[] } | string[] }>;
      };
      expect(data.shard).toEqual({ index: i, count: 3, hosts: mine });
      seen.push(...data.shard.hosts);
    }
    expect(seen.sort()).toEqual([...all].sort());
    // With --limit: both apply.
    const both = await runCli(['plan', pb, '--shard', '0/3', '--limit', 'web', '--json']);
    const d = JSON.parse(both.stdout) as { shard: { hosts: string[] }; steps: Array<{ on: string }> };
    expect(d.steps[0]!.on).toBe('all & (web & shard(0/3))');
  });

  it('a bad --shard is a usage error (exit 5) and contacts nothing', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, fleet(STEPS));
    for (const [cmd, value, msg] of [
      ['run', '3/3', /run: --shard '3\/3': I must be less than N \(shards are numbered 0 to 2\)/],
      ['plan', '1/0', /plan: --shard '1\/0': N \(the number of shards\) must be at least 1/],
      ['run', 'one/3', /run: --shard takes I\/N \(two whole numbers, 0 ≤ I < N, e\.g\. 0\/4\), not 'one\/3'/],
      ['plan', '-1/3', /--shard takes I\/N/],
    ] as const) {
      const r = await runCli([cmd, pb, `--shard=${value}`, ...(cmd === 'run' ? ['--json', join(dir, 'r.json')] : [])]);
      expect(r.code, `${cmd} --shard ${value}: ${r.stderr}`).toBe(5);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('N shard runs merged equal one run of the whole fleet; JUnit and Markdown of the merge work', async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, fleet(STEPS));
    const full = await runCli(['run', pb, '--json', join(dir, 'full.json'), '--output', 'quiet']);
    expect(full.code).toBe(2);
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = join(dir, `shard-${i}.json`);
      const r = await runCli(['run', pb, '--shard', `${i}/3`, '--json', f, '--output', 'quiet']);
      const report = readReport(f);
      expect(report.shard).toMatchObject({ index: i, count: 3 });
      expect(Object.keys(report.hosts)).toEqual(hostsInShard([...HOSTS, 'db1'], { index: i, count: 3 }));
      expect(r.code).toBe(report.hosts.web03 ? 2 : 0);
      files.push(f);
    }
    // Any order of the files.
    const merged = join(dir, 'merged.json');
    const m = await runCli(['report', 'merge', files[2]!, files[0]!, files[1]!, '-o', merged, '--junit', join(dir, 'merged.xml')]);
    expect(m.code, m.stderr).toBe(0);
    const mr = readReport(merged);
    expect(comparable(mr)).toEqual(comparable(readReport(join(dir, 'full.json'))));
    expect(mr.merged_from!.map((x) => x.index)).toEqual([0, 1, 2]);

    const xml = readFileSync(join(dir, 'merged.xml'), 'utf8');
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml.match(/<testcase /g)).toHaveLength(13 + 12 + 12);
    expect(xml).toContain('web03 is broken');

    const md = await runCli(['report', merged, '--format', 'markdown']);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('**13 hosts**: 12 ok · 1 failed · 0 unreachable');
    expect(md.stdout).toContain('Merged from 3 shard reports');
    expect(md.stdout).toContain('web03 is broken');
    const html = await runCli(['report', merged, '--format', 'html', '-o', join(dir, 'm.html')]);
    expect(html.code).toBe(0);
    expect(readFileSync(join(dir, 'm.html'), 'utf8')).toContain('data-host="web03"');

    // Shards that do not belong together: exit 5 saying which.
    const bad = await runCli(['report', 'merge', files[0]!, files[1]!, '-o', join(dir, 'x.json')]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('missing shard 2/3');
    const twice = await runCli(['report', 'merge', files[0]!, files[0]!, files[1]!, files[2]!, '-o', join(dir, 'x.json')]);
    expect(twice.code).toBe(5);
    expect(twice.stderr).toContain(`${files[0]}: shard 0/3 was given twice (also ${files[0]})`);
    const other = JSON.parse(readFileSync(files[1]!, 'utf8')) as { playbook_sha256: string };
    other.playbook_sha256 = 'f'.repeat(64);
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    const changed = await runCli(['report', 'merge', files[0]!, join(dir, 'other.json'), files[2]!, '-o', join(dir, 'x.json')]);
    expect(changed.code).toBe(5);
    expect(changed.stderr).toMatch(/other\.json: playbook sha256 ffffffffffff… differs/);
  }, 120_000);

  it("--resume with another shard's report is refused (exit 5): it would rerun nothing and pass", async () => {
    dir = tempDir();
    const pb = writePlaybook(dir, fleet(STEPS));
    const shard = [0, 1, 2].find((index) => hostsInShard(HOSTS, { index, count: 3 }).includes('web03'))!;
    const r = await runCli(['run', pb, '--shard', `${shard}/3`, '--json', join(dir, 'r.json'), '--output', 'plain']);
    expect(r.code, r.stderr).toBe(2);
    const other = `${(shard + 1) % 3}/3`;
    for (const cmd of ['run', 'plan']) {
      const again = await runCli([cmd, pb, '--resume', join(dir, 'r.json'), '--shard', other]);
      expect(again.code).toBe(5);
      expect(again.stderr).toContain(`that is the report of --shard ${shard}/3, but this run is --shard ${other}`);
    }
    const same = await runCli(['plan', pb, '--resume', join(dir, 'r.json'), '--shard', `${shard}/3`]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('web03 from step 2');
  });

  it('percent max_failures and serial apply within a shard', async () => {
    dir = tempDir();
    const all = [...HOSTS, 'db1'];
    const shard = { index: 1, count: 3 };
    const mine = hostsInShard(all, shard);
    const victim = mine[0]!;
    // One failure: 1 of 13 hosts (8%) is under 20% for the whole fleet, but over it within the shard.
    const pb = writePlaybook(
      dir,
      fleet(
        `  - call: shell
    args: { cmd: "test {host} != ${victim}" }
    max_failures: "20%"
  - call: ping
`,
        'serial: "50%"\n',
      ),
    );
    const events = join(dir, 'events.jsonl');
    const r = await runCli([
      'run',
      pb,
      '--shard',
      `${shard.index}/${shard.count}`,
      '--json',
      join(dir, 's.json'),
      '--events',
      events,
      '--output',
      'quiet',
    ]);
    expect(r.code, r.stderr).toBe(3);
    const batches = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; hosts?: string[] })
      .filter((e) => e.type === 'batch_started');
    // 50% of the shard's hosts, not of the fleet's 13.
    expect(batches[0]!.hosts).toEqual(mine.slice(0, Math.max(1, Math.floor(mine.length / 2))));
    const whole = await runCli(['run', pb, '--json', join(dir, 'w.json'), '--output', 'quiet']);
    expect(whole.code).not.toBe(3);
  }, 60_000);

  it('report: unreadable input is a usage error', async () => {
    dir = tempDir();
    const missing = await runCli(['report', join(dir, 'nope.json'), '--format', 'markdown']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('no such file');
    writeFileSync(join(dir, 'x.json'), '{"hello": 1}');
    const notReport = await runCli(['report', join(dir, 'x.json'), '--format', 'html']);
    expect(notReport.code).toBe(5);
    expect(notReport.stderr).toContain('is not a chopsticks run report');
    const noFormat = await runCli(['report', join(dir, 'x.json')]);
    expect(noFormat.code).toBe(5);
    expect(noFormat.stderr).toContain('--format must be markdown or html');
  });
});
