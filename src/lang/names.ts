/** Name rules (docs/language.md#hosts); the first is shared by hosts, groups and filter groups. */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$';

/** An environment variable's name as a shell can export it: every `env` mapping's keys, facts.env's name. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
