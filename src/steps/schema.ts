/**
 * The step part of the playbook schema, composed from the kinds' own fragments, so a kind's keys
 * are declared once, in its module. `npm run gen:schema` writes it into
 * schema/playbook.schema.json; a test fails when the file is stale.
 */
import { STEP_KINDS } from './index.js';

/** Keys every step takes (docs/language.md#steps). */
export const COMMON_STEP_PROPS: Record<string, Record<string, unknown>> = {
  name: {
    type: 'string',
    minLength: 1,
    description: 'Shown in output and reports (generated when absent, e.g. "call facts.os").',
  },
  on: {
    type: 'string',
    minLength: 1,
    description:
      "Target hosts (all by default). A group expression: names of groups or hosts combined with + - & ^ | and parentheses; ok(R), failed(R), changed(R), unreachable(R) for the outcome of a registered step; 'web*' globs host names.",
  },
  register: {
    type: 'string',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description:
      "Name this step's results: {results.NAME} in later templates, ok(NAME)/failed(NAME)/changed(NAME)/unreachable(NAME) in later `on`.",
  },
  on_failure: {
    enum: ['continue', 'abort', 'ignore'],
    description:
      'continue: drop failed hosts from later steps; abort: stop the run after this step; ignore: record the error and keep the host.',
  },
  max_failures: {
    anyOf: [
      {
        type: 'integer',
        minimum: 0,
      },
      {
        type: 'string',
        pattern: '^[0-9]+(\\.[0-9]+)?%$',
      },
    ],
    description: 'Abort when the step\'s failures exceed N hosts or "P%" of its targets.',
  },
  retries: {
    type: 'integer',
    minimum: 0,
    description: "Times a host's failed operation is retried (0).",
  },
  retry_delay: {
    type: ['string', 'number'],
    pattern: '^(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+$|^[0-9]+(?:\\.[0-9]+)?$',
    minimum: 0,
    description: 'Wait between retries (1s). A duration: "500ms", "60s", "1m30s", "1h", or a number of seconds.',
  },
  timeout: {
    type: ['string', 'number'],
    pattern: '^(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+$|^[0-9]+(?:\\.[0-9]+)?$',
    minimum: 0,
    description:
      'Bound on each host\'s operation; a timed-out host\'s error kind is `timeout`. A duration: "500ms", "60s", "1m30s", "1h", or a number of seconds.',
  },
  become: {
    type: 'string',
    minLength: 1,
    description: 'Run every command as this user through `sudo -n -u USER`.',
  },
  concurrency: {
    type: 'integer',
    minimum: 1,
    description: 'At most this many hosts work on the step at once.',
  },
  max_result: {
    type: ['integer', 'string'],
    minimum: 1,
    pattern: '^[0-9]+ ?(B|KiB|MiB|GiB|kB|MB|GB)?$',
    description:
      'Largest value a call may return, in bytes of JSON ("1MiB" by default); a larger one is that host\'s error, kind invalid_result, and a command is stopped once its output passes it. A number is bytes; a string may use B, KiB, MiB, GiB, kB, MB, GB.',
  },
  check_mode: {
    enum: ['run', 'skip'],
    description:
      'In --check: run runs this step anyway (a read-only command you vouch for); skip never runs it. Without it, read-only steps run and changing ones report what they would change.',
  },
  when: {
    type: ['object', 'boolean'],
    description:
      'A JSON Logic rule (jsonlogic.com) over host, vars.*, hostvars.*, results.R.*, item: hosts where it is false skip this step.',
  },
  loop: {
    anyOf: [{ type: 'array' }, { type: 'string', pattern: '^\\{vars\\.[A-Za-z0-9_.-]+\\}$' }],
    description:
      'Run the step once per item (call, put, template): a list, or "{vars.NAME}" naming a list; templates see {item} and {item.KEY}.',
  },
  run_once: {
    type: 'boolean',
    description: "Run on the first of the step's targets only (definition order); its value is registered for every target.",
  },
};

/** `include: FILE` (docs/language.md#include): its `on` and `name` apply to every included step. */
const INCLUDE_STEP = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { type: 'string', minLength: 1, description: 'A YAML file of steps (steps: and optional vars:), relative to this file.' },
    name: { type: 'string', minLength: 1, description: "Prefixes the included steps' names." },
    on: { type: 'string', minLength: 1, description: "Intersected with every included step's on." },
    vars: {
      type: 'object',
      description: "Vars for the included steps only: over the playbook's vars and the file's own vars: defaults (--var still wins).",
    },
  },
};

export function stepSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...COMMON_STEP_PROPS };
  for (const k of STEP_KINDS) properties[k.kind] = k.schema.key;
  return {
    type: 'object',
    // `include: FILE` is not a kind: validation replaces it by the file's steps.
    if: { required: ['include'] },
    then: INCLUDE_STEP,
    else: {
      properties,
      oneOf: STEP_KINDS.map((k) => ({ required: [k.kind] })),
      allOf: STEP_KINDS.map((k) => ({
        if: { required: [k.kind] },
        then: { properties: k.schema.props, required: k.schema.required },
      })),
      unevaluatedProperties: false,
    },
  };
}

/** The kind-specific keys of each kind, for "did you mean" and "only for put" hints. */
export function kindKeys(): Record<string, string[]> {
  return Object.fromEntries(STEP_KINDS.map((k) => [k.kind, Object.keys(k.schema.props)]));
}
