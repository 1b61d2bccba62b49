/**
 * The playbook schema precompiled to a plain JS module (ajv "standalone" code), so `validate`
 * does not pay ajv's compile time (~100 ms) on every start. `schema/playbook.validate.cjs` is
 * generated from `schema/playbook.schema.json` by this function; a test fails when it is stale.
 */
import { createRequire } from 'node:module';
import { loadPlaybookSchema } from './schema-check.js';

export const VALIDATOR_URL = new URL('../../schema/playbook.validate.cjs', import.meta.url);

/** The same options at run time and for the generated code: both must report the same errors. */
export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true } as const;

export function generatePlaybookValidatorSource(): string {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js') as { default: new (opts: object) => { addSchema(s: object): unknown } };
  const standalone = require('ajv/dist/standalone/index.js') as { default: (ajv: unknown, refs: Record<string, string>) => string };
  const schema = loadPlaybookSchema();
  const ajv = new Ajv2020.default({ ...AJV_OPTIONS, code: { source: true } });
  ajv.addSchema(schema);
  const code = standalone.default(ajv, { playbook: schema.$id, inventory: `${schema.$id}#/$defs/inventory` });
  return `// Generated from playbook.schema.json by src/validate/schema-standalone.ts; do not edit.\n${code}\n`;
}
