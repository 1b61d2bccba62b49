/** The name rule shared by hosts, groups and filter groups (docs/language.md#hosts). */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$';
