// Writes the step part of schema/playbook.schema.json from the step-kind modules (dist/), then the
// precompiled validators. Run through `npm run gen:schema` (which builds first).
import { readFileSync, writeFileSync } from 'node:fs';
const root = new URL('../', import.meta.url);
const { stepSchema } = await import(new URL('dist/steps/schema.js', root));
const path = new URL('schema/playbook.schema.json', root);
const schema = JSON.parse(readFileSync(path, 'utf8'));
schema.$defs.step = stepSchema();
writeFileSync(path, JSON.stringify(schema, null, 2) + '\n');
const { generatePlaybookValidatorSource, VALIDATOR_URL } = await import(new URL('dist/validate/schema-standalone.js', root));
writeFileSync(VALIDATOR_URL, generatePlaybookValidatorSource());
console.log('schema/playbook.schema.json and schema/playbook.validate.cjs written');
