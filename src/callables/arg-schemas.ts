/** Parts shared by the built-in callables' argument schemas (JSON Schema 2020-12). */

export const noArgs = { type: 'object', additionalProperties: false, properties: {} };

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
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
  env: { ...stringMap, description: 'extra environment variables' },
  ok_codes: okCodes,
  creates: { type: 'string', minLength: 1, description: 'skip the command (changed: false) when this path exists on the host' },
  removes: { type: 'string', minLength: 1, description: 'skip the command (changed: false) when this path does not exist on the host' },
  changed_when: {
    type: ['object', 'boolean'],
    description: 'a JSON Logic rule over result.stdout, result.stderr, result.rc (and host, vars, hostvars, results) deciding `changed`',
  },
};
