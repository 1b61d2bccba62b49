/** Parts shared by the built-in callables' argument schemas (JSON Schema 2020-12). */
import { ENV_NAME_PATTERN } from '../lang/names.js';

export const noArgs = { type: 'object', additionalProperties: false, properties: {} };

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
/** Names a shell can export: anything else would be dropped or mangled on the host. */
const envMap = { ...stringMap, propertyNames: { pattern: ENV_NAME_PATTERN } };
const okCodes = {
  type: 'array',
  items: { type: 'integer', minimum: 0, maximum: 255 },
  minItems: 1,
  description: 'exit codes that count as success ([0] by default)',
};

/** Keys every command-running callable (command, shell, script) takes. */
export const commandCommon = {
  stdin: { type: 'string', description: "text written to the command's standard input" },
  cwd: { type: 'string', description: 'working folder on the host' },
  env: { ...envMap, description: 'extra environment variables' },
  ok_codes: okCodes,
  creates: { type: 'string', minLength: 1, description: 'skip the command (changed: false) when this path exists on the host' },
  removes: { type: 'string', minLength: 1, description: 'skip the command (changed: false) when this path does not exist on the host' },
  changed_when: {
    type: ['object', 'boolean'],
    description: 'a JSON Logic rule over result.stdout, result.stderr, result.rc (and host, vars, hostvars, results) deciding `changed`',
  },
};
