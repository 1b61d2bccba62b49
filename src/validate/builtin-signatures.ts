/**
 * Names, read-only flags and argument schemas of the built-in callables (docs/language.md#built-in-callables).
 * Validation needs only these, so they live here rather than next to the implementations:
 * `validate` stays fast (no transport code is imported) and `src/callables/` imports this list
 * so both sides agree on one signature per callable.
 */

export interface BuiltinSignature {
  name: string;
  readonly: boolean;
  /** JSON Schema (2020-12) for `args`. */
  schema: Record<string, unknown>;
  description: string;
}

const noArgs = { type: 'object', additionalProperties: false, properties: {} };

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const okCodes = {
  type: 'array',
  items: { type: 'integer', minimum: 0, maximum: 255 },
  minItems: 1,
  description: 'exit codes that count as success ([0] by default)',
};

const commandCommon = {
  stdin: { type: 'string', description: 'text written to the command\'s standard input' },
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

export const BUILTIN_SIGNATURES: readonly BuiltinSignature[] = [
  { name: 'ping', readonly: true, schema: noArgs, description: 'returns "pong"' },
  { name: 'facts.hostname', readonly: true, schema: noArgs, description: 'the host\'s hostname' },
  { name: 'facts.ip', readonly: true, schema: noArgs, description: 'first global address, or null' },
  { name: 'facts.os', readonly: true, schema: noArgs, description: 'os-release id, version, kernel, arch' },
  { name: 'facts.uptime', readonly: true, schema: noArgs, description: 'seconds since boot' },
  { name: 'facts.cpu', readonly: true, schema: noArgs, description: 'cpu count and model' },
  { name: 'facts.memory', readonly: true, schema: noArgs, description: 'total and available memory' },
  {
    name: 'facts.disk',
    readonly: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { path: { type: 'string', description: 'a path on the filesystem to measure ("/" by default)' } },
    },
    description: 'size and free space of the filesystem holding path',
  },
  {
    name: 'facts.env',
    readonly: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', description: 'environment variable name' } },
    },
    description: 'value of an environment variable, or null',
  },
  {
    name: 'facts.which',
    readonly: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', description: 'program name' } },
    },
    description: 'absolute path of a program, or null',
  },
  {
    name: 'facts.file',
    readonly: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: { path: { type: 'string', description: 'path on the host' } },
    },
    description: '{exists, type, size, mode, sha1sum}',
  },
  {
    name: 'test',
    readonly: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['cmd'],
      properties: { cmd: { type: 'string', description: 'shell command; exit 0 → true, 1 → false' } },
    },
    description: 'true when the command exits 0, false when 1, an error otherwise',
  },
  {
    name: 'command',
    readonly: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['argv'],
      properties: {
        argv: {
          type: 'array',
          minItems: 1,
          items: { type: 'string' },
          description: 'program and arguments, passed without shell interpretation',
        },
        ...commandCommon,
      },
    },
    description: 'runs a program; {stdout, stderr, rc}',
  },
  {
    name: 'shell',
    readonly: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['cmd'],
      properties: { cmd: { type: 'string', description: 'shell command line (sh -c)' }, ...commandCommon },
    },
    description: 'runs a shell command; {stdout, stderr, rc}',
  },
  {
    name: 'script',
    readonly: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', description: 'local script, relative to the playbook' },
        interpreter: { type: 'string', description: 'program that runs the script (default: its shebang)' },
        args: { type: 'array', items: { type: 'string' }, description: 'arguments to the script' },
        output: { enum: ['json', 'text'], description: 'parse stdout as JSON or return it as text (text by default)' },
        ...commandCommon,
      },
    },
    description: 'copies a local script to the host, runs it, returns its stdout',
  },
  {
    name: 'file',
    readonly: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1, description: 'path on the host' },
        state: { enum: ['file', 'directory', 'absent', 'link', 'touch'], description: 'what the path must be (file by default)' },
        mode: { type: 'string', pattern: '^0?[0-7]{3,4}$', description: 'permission bits as a QUOTED octal string ("0755")' },
        owner: { type: 'string', minLength: 1, description: 'user that must own the path' },
        group: { type: 'string', minLength: 1, description: 'group that must own the path' },
        src: { type: 'string', minLength: 1, description: 'for state: link, what the link points to' },
      },
    },
    description: 'ensures a path is a file, directory, symlink, absent or touched; exact in check mode',
  },
  {
    name: 'line',
    readonly: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'line'],
      properties: {
        path: { type: 'string', minLength: 1, description: 'text file on the host' },
        line: { type: 'string', description: 'the line that must be present (or absent)' },
        regexp: { type: 'string', description: 'the last line matching it is replaced by `line` (state: present) / every matching line is removed (absent)' },
        state: { enum: ['present', 'absent'], description: 'present by default' },
        create: { type: 'boolean', description: 'create the file when missing (false)' },
        insert_after: { type: 'string', description: "'EOF' (default) or a regexp: a new line goes after its last match" },
      },
    },
    description: "Ansible's lineinfile: one line present or absent in a text file; exact in check mode",
  },
];

const byName = new Map(BUILTIN_SIGNATURES.map((s) => [s.name, s]));

export function builtinSignature(name: string): BuiltinSignature | undefined {
  return byName.get(name);
}

export const BUILTIN_NAMES: readonly string[] = BUILTIN_SIGNATURES.map((s) => s.name);
