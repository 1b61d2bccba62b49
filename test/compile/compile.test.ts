import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, formatPlanText, planToJson } from '../../src/compile/index.js';
import { fillPutLocalInfo } from '../../src/cli/put-local-info.js';
import { formatProblem } from '../../src/errors.js';
import type { Playbook } from '../../src/validate/model.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';

async function load(yaml: string, files?: Record<string, string>, limit?: string): Promise<Playbook> {
  const r = await loadWith(yaml, files, limit);
  expect(r.problems.map(formatProblem)).toEqual([]);
  return r.playbook!;
}

// FLEET's put source exists unless a test says otherwise: a missing one is a validation problem.
async function loadWith(yaml: string, files: Record<string, string> = { 'app-2.4.1.txt': 'app\n' }, limit?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'chop-compile-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'pb.yaml'), yaml);
  return loadPlaybook(join(dir, 'pb.yaml'), limit === undefined ? {} : { limit });
}

const FLEET = `version: 1
vars: { release: "2.4.1" }
hosts:
  web1: local
  web2: local
  db1: local
  db2: local
groups:
  web: [web1, web2]
  db: "'db*'"
steps:
  - call: shell
    args: { cmd: "deploy {vars.release} on {host}" }
    on: web | db
    register: deploy
  - filter: test
    args: { cmd: "test -d /srv" }
    on: web
    as: has_srv
  - call: ping
    on: failed(deploy) & db
  - put: app-{vars.release}.txt
    to: /opt/
    on: has_srv - web2
  - fetch: /var/log/app.log
    to: logs/{host}.log
`;

describe('compile', () => {
  it('resolves static groups to host lists in definition order', async () => {
    const plan = compile(await load(FLEET));
    expect(plan.groups.filter((g) => g.source === 'static')).toEqual([
      { name: 'web', source: 'static', hosts: { lower: ['web1', 'web2'], upper: ['web1', 'web2'] } },
      { name: 'db', source: 'static', hosts: { lower: ['db1', 'db2'], upper: ['db1', 'db2'] } },
    ]);
    expect(plan.steps[0]!.targets).toEqual({ lower: ['web1', 'web2', 'db1', 'db2'], upper: ['web1', 'web2', 'db1', 'db2'] });
  });

  it('filter groups and outcome sets are bounds [∅, upper]', async () => {
    const plan = compile(await load(FLEET));
    expect(plan.groups.find((g) => g.name === 'has_srv')).toEqual({
      name: 'has_srv',
      source: 'filter',
      hosts: { lower: [], upper: ['web1', 'web2'] },
      step: 1,
    });
    expect(plan.steps[2]!.targets).toEqual({ lower: [], upper: ['db1', 'db2'] });
    expect(plan.steps[3]!.targets).toEqual({ lower: [], upper: ['web1'] });
    const text = formatPlanText(plan);
    expect(text).toContain('has_srv  decided at run time, ⊆ [web[1-2]] (made by step 2)');
    expect(text).toContain('targets  decided at run time, ⊆ [db[1-2]]');
  });

  it('--limit intersects every step and is shown canonically', async () => {
    const plan = compile(await load(FLEET, undefined, 'web1|db1'));
    expect(plan.steps.map((s) => s.targets.upper)).toEqual([['web1', 'db1'], ['web1'], ['db1'], ['web1'], ['web1', 'db1']]);
    expect(plan.steps[0]!.onText).toBe('(web | db) & (web1 | db1)');
    expect(plan.limit).toBe('web1|db1');
  });

  it('an unknown name in --limit is a problem with a hint', async () => {
    const { playbook, problems } = await loadWith(FLEET, undefined, 'web - wbe1');
    expect(playbook).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual(["--limit:1:7: --limit: unknown host or group 'wbe1'; did you mean 'web1'?"]);
  });

  it('is deterministic: same input, byte-identical JSON and text', async () => {
    const a = compile(await load(FLEET));
    const b = compile(await load(FLEET));
    // Different temp folders: compare with the folder normalised, then the same object twice.
    const norm = (s: string, p: Playbook | { baseDir: string }) => s.split(p.baseDir).join('<dir>');
    expect(norm(planToJson(a), a)).toBe(norm(planToJson(b), b));
    expect(planToJson(a)).toBe(planToJson(compile(await loadAgain(a))));
    expect(formatPlanText(a)).toBe(formatPlanText(a));
    expect((JSON.parse(planToJson(a)) as { steps: Array<{ args_filled: unknown }> }).steps[0]!.args_filled).toEqual({
      cmd: 'deploy 2.4.1 on {host}',
    });
  });

  it('fills vars-only templates in plan output and leaves host templates', async () => {
    const pb = await load(`version: 1
vars: { release: "2.4.1", codes: [0, 3] }
hosts: { h: local }
steps:
  - call: command
    args: { argv: ["echo", "{vars.release}", "{host}"], ok_codes: "{vars.codes}" }
`);
    const text = formatPlanText(compile(pb));
    expect(text).toContain('args     {"argv":["echo","2.4.1","{host}"],"ok_codes":[0,3]}');
  });

  it('put shows the local file size and sha1 once fillPutLocalInfo read it', async () => {
    const content = 'hello chopsticks\n'.repeat(1000);
    const pb = await load(FLEET, { 'app-2.4.1.txt': content });
    const plan = await fillPutLocalInfo(compile(pb));
    const sha1 = createHash('sha1').update(content).digest('hex');
    const put = plan.steps[3]!;
    expect(put.kind === 'put' && put.local).toEqual({ path: join(pb.baseDir, 'app-2.4.1.txt'), size: content.length, sha1sum: sha1 });
    expect(formatPlanText(plan)).toContain(`local    ${join(pb.baseDir, 'app-2.4.1.txt')}, ${content.length} bytes, sha1 ${sha1}`);
    expect(formatPlanText(plan)).toContain('put      app-2.4.1.txt → /opt/, mode 0644');
  });

  it('a missing put source is a validation problem when its path is known before the run', async () => {
    // The put first: no earlier step on a local host could make the file.
    const putFirst = FLEET.replace('steps:\n', 'steps:\n  - put: app-{vars.release}.txt\n    to: /opt/\n');
    const { playbook, problems } = await loadWith(putFirst, {});
    expect(playbook).toBeUndefined();
    expect(problems.map((p) => `${p.pos.line}:${p.pos.col}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^12:10: put: local file app-2\.4\.1\.txt \(.*app-2\.4\.1\.txt\) does not exist; paths are relative to the playbook's folder$/,
      ),
    ]);
  });

  it('after read-only steps on local hosts a missing put source is still a problem; after a fetch or a changing local step it is checked at run time', async () => {
    const after = (steps: string) =>
      loadWith(FLEET.replace(/steps:\n[\s\S]*$/, `steps:\n${steps}  - put: app-{vars.release}.txt\n    to: /opt/\n`), {});
    const readOnly = await after('  - call: ping\n  - filter: test\n    args: { cmd: "true" }\n    as: t\n  - assert: true\n');
    expect(readOnly.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^put: local file app-2\.4\.1\.txt .* does not exist/)]);
    expect((await after('  - call: shell\n    args: { cmd: make }\n')).problems).toEqual([]);
    expect((await after('  - fetch: /tmp/x\n    to: app-{vars.release}.txt\n    on: web1\n')).problems).toEqual([]);
  });

  it('a put source that is a folder is a validation problem that says to use sync', async () => {
    const { problems } = await loadWith(FLEET.replace('put: app-{vars.release}.txt', 'put: files'));
    const dir = problems[0]?.pos.file.replace(/pb\.yaml$/, '') ?? '';
    expect(problems.map((p) => p.message)).toEqual([`put: files (${dir}files) is a folder; put copies one file: use sync for a folder`]);
  });

  it('a put source filled by {host} is checked for each host the step surely runs on; with when, at run time only', async () => {
    const pb = (extra = '') => `version: 1
hosts: { web1: local, web2: local, db1: local }
steps:
  - put: app-{host}.txt
    to: /opt/
${extra}`;
    const { problems } = await loadWith(pb(), { 'app-web1.txt': 'x' });
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^put: local file app-web2\.txt .* does not exist \(for host web2, and 1 more host\)/),
    ]);
    expect((await loadWith(pb(), { 'app-web1.txt': 'x', 'app-web2.txt': 'x', 'app-db1.txt': 'x' })).problems).toEqual([]);
    expect((await loadWith(pb('    when: { "==": [{ var: host }, web1] }\n'), {})).problems).toEqual([]);
  });

  it('a fetch with a single possible target needs no {host}', async () => {
    const pb = await load('version: 1\nhosts: { a: local }\nsteps:\n  - fetch: /x\n    to: out.txt\n');
    expect(compile(pb).steps[0]!.kind).toBe('fetch');
  });
});

describe('compile: list groups', () => {
  it('a list member may be a glob or an expression', async () => {
    const pb = await load(
      "version: 1\nhosts: { web1: local, web2: local, db1: local }\ngroups:\n  g: ['web*', 'db1 - web1']\n  e: []\nsteps:\n  - call: ping\n    on: g - e\n",
    );
    const plan = compile(pb);
    expect(plan.groups.map((g) => [g.name, g.hosts.upper])).toEqual([
      ['g', ['web1', 'web2', 'db1']],
      ['e', []],
    ]);
    expect(pb.groups[0]!.expr.value).toBe("'web*' | (db1 - web1)");
  });
});

async function loadAgain(plan: { playbook: string }): Promise<Playbook> {
  const r = await loadPlaybook(plan.playbook);
  return r.playbook!;
}

describe('put sources found before the run', () => {
  it('a source an earlier step on a local host may make (a build) is checked at run time', async () => {
    const yaml = `version: 1
hosts: { builder: local, web: { transport: docker, container: web } }
steps:
  - call: shell
    args: { cmd: "make dist/app.tar" }
    on: builder
  - put: dist/app.tar
    on: web
`;
    expect((await loadWith(yaml, {})).problems).toEqual([]);
    const { problems } = await loadWith(yaml.replace('on: builder', 'on: web'), {});
    expect(problems.map((p) => p.code)).toEqual(['file_not_found']);
  });
});
