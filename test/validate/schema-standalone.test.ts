import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generatePlaybookValidatorSource, VALIDATOR_URL } from '../../src/validate/schema-standalone.js';

it('schema/playbook.validate.cjs is generated from the current schema', () => {
  const fresh = generatePlaybookValidatorSource();
  if (process.env.UPDATE_VALIDATOR === '1') writeFileSync(VALIDATOR_URL, fresh);
  const committed = readFileSync(VALIDATOR_URL, 'utf8');
  // When this fails: UPDATE_VALIDATOR=1 npx vitest run test/validate/schema-standalone.test.ts
  expect(committed === fresh).toBe(true);
});

it('the precompiled validators are used (their source hash matches)', async () => {
  const { precompiled } = await import('../../src/validate/schema-check.js');
  expect(precompiled()?.playbook).toBeTypeOf('function');
});

it("the schema's step part is composed from the step-kind modules (npm run gen:schema)", async () => {
  const { stepSchema } = await import('../../src/steps/schema.js');
  const committed = JSON.parse(readFileSync(new URL('../../schema/playbook.schema.json', import.meta.url), 'utf8')) as {
    $defs: { step: unknown };
  };
  expect(committed.$defs.step).toEqual(stepSchema());
});
