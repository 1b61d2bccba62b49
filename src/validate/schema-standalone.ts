/**
 * The playbook schema precompiled to a plain JS module (ajv "standalone" code), so `validate`
 * does not pay ajv's compile time (~100 ms) on every start. `schema/playbook.validate.cjs` is
 * generated from `schema/playbook.schema.json` by this function; a test fails when it is stale.
 */
import { createRequire } from 'node:module';
import { BUILTIN_SIGNATURES } from '../callables/builtins.js';
import { AJV_OPTIONS, loadPlaybookSchema, validatorSourceHash } from './schema-check.js';

export function builtinExportName(callable: string): string {
  return `builtin_${callable.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export const VALIDATOR_URL = new URL('../../schema/playbook.validate.cjs', import.meta.url);

export function generatePlaybookValidatorSource(): string {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js') as { default: new (opts: object) => { addSchema(s: object): unknown } };
  const standalone = require('ajv/dist/standalone/index.js') as { default: (ajv: unknown, refs: Record<string, string>) => string };
  const schema = loadPlaybookSchema();
  const ajv = new Ajv2020.default({ ...AJV_OPTIONS, code: { source: true } });
  ajv.addSchema(schema);
  const refs: Record<string, string> = {
    playbook: schema.$id,
    inventory: `${schema.$id}#/$defs/inventory`,
    include: `${schema.$id}#/$defs/include`,
  };
  // Built-in callables' arg schemas too: checking `args` must not compile anything either.
  for (const sig of BUILTIN_SIGNATURES) {
    const id = `https://chopsticks.dev/schema/builtin/${sig.name}`;
    ajv.addSchema({ ...sig.schema, $id: id });
    refs[builtinExportName(sig.name)] = id;
  }
  const code = standalone.default(ajv, refs);
  return `// Generated from playbook.schema.json by src/validate/schema-standalone.ts; do not edit.\n${code}\nexports.sourceHash = ${JSON.stringify(validatorSourceHash())};\n`;
}
