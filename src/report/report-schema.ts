/**
 * Checks a parsed JSON document against schema/report.schema.json, so that `chopsticks report`
 * and `report merge` refuse a file that is not a run report with a message, instead of failing
 * half-way through it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

type Validate = ((d: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
let validate: Validate | undefined;

/** The first schema error as `PATH message`, or undefined when `report` is a valid run report. */
export function reportSchemaError(report: unknown): string | undefined {
  if (!validate) {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020.js') as { default: new (opts: object) => { compile(s: object): Validate } };
    const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/report.schema.json', import.meta.url)), 'utf8')) as object;
    validate = new Ajv2020.default({ allErrors: false, strict: false }).compile(schema);
  }
  if (validate(report)) return undefined;
  const e = validate.errors?.[0];
  return e ? `${e.instancePath || '(top)'} ${e.message ?? 'is invalid'}` : 'invalid';
}
