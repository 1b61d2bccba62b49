/**
 * Reads the report given to `--resume`, checks it against schema/report.schema.json, and turns
 * it into the restricted plan and the executor's seed. A report that cannot be used is a
 * command-line problem (exit 5): the playbook itself is fine.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { Plan } from '../compile/plan-types.js';
import type { RunReport } from '../report/report-types.js';
import { computeResume, planForResume, type ResumeSeed } from '../run/resume.js';

export function loadResume(plan: Plan, reportPath: string): { plan: Plan; seed: ResumeSeed } {
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch (e) {
    throw new UsageError(`--resume: cannot read the report ${reportPath}: ${(e as Error).message}`);
  }
  const errors = reportSchemaErrors(report);
  if (errors) throw new UsageError(`--resume: ${reportPath} is not a Chopsticks run report: ${errors}`);
  const r = computeResume(plan, report as RunReport);
  if (!r.ok) throw new UsageError(`--resume: ${reportPath}: ${r.message}`);
  return { plan: planForResume(plan, reportPath, r.seed.from), seed: r.seed };
}

function reportSchemaErrors(report: unknown): string | undefined {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js') as {
    default: new (opts: object) => {
      compile(s: object): ((d: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
    };
  };
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/report.schema.json', import.meta.url)), 'utf8')) as object;
  const validate = new Ajv2020.default({ allErrors: false, strict: false }).compile(schema);
  if (validate(report)) return undefined;
  const e = validate.errors?.[0];
  return e ? `${e.instancePath || '(top)'} ${e.message ?? 'is invalid'}` : 'invalid';
}
