/** In-process runs of small playbooks over local hosts, in a temp folder per test. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runPlaybook, planPlaybook } from '../../src/api.js';
import { loadPlaybook } from '../../src/validate/load-playbook.js';
import { formatProblem } from '../../src/errors.js';
import type { RunReport, ReportStep } from '../../src/report/report-types.js';
import { parseReport } from '../cli/helpers.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'chopsticks-steps-'));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Write files (path → text) under dir. */
export function files(dir: string, map: Record<string, string>): void {
  for (const [p, text] of Object.entries(map)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

export async function run(
  dir: string,
  yaml: string,
  opts: { check?: boolean; diff?: boolean; secrets?: Record<string, string> } = {},
): Promise<RunReport> {
  const file = join(dir, 'pb.yaml');
  writeFileSync(file, yaml);
  const out = await runPlaybook(file, opts);
  // The report must match schema/report.schema.json.
  return parseReport(JSON.stringify(out.report));
}

/** `FILE:LINE:COL: message` lines of validation (empty when valid). */
export async function problems(dir: string, yaml: string): Promise<string[]> {
  const file = join(dir, 'pb.yaml');
  writeFileSync(file, yaml);
  const r = await loadPlaybook(file);
  return r.problems.map((p) => formatProblem(p).replace(`${dir}/`, ''));
}

export async function plan(dir: string, yaml: string) {
  const file = join(dir, 'pb.yaml');
  writeFileSync(file, yaml);
  return planPlaybook(file);
}

export function step(r: RunReport, name: string): ReportStep {
  const s = r.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step '${name}' in ${r.steps.map((x) => x.name).join(', ')}`);
  return s;
}

/** host → value of a step (errors as {error: kind}). */
export function values(s: ReportStep): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s.results).map(([h, r]) => [h, r.ok ? r.value : { error: r.error.kind, msg: r.error.msg }]));
}
