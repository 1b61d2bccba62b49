/**
 * Arguments a shell would mangle: quotes, expansions, separators, globs, redirections,
 * backslashes, newlines, tabs, a leading dash, an empty argument and non-ASCII text. Passed
 * through `command`, each must reach the remote program byte for byte.
 */
export const METACHAR_ARGS: string[] = [
  `it's "quoted"`,
  '$HOME ${PATH} $(id -u) `hostname`',
  'a;b && c || d | e & f',
  '* ? [a-z] ~ ~root {a,b}',
  '> /tmp/chopsticks-e2e-oops < /etc/passwd 2>&1',
  'back\\slash \\n \\\\ \\$',
  'new\nline\ttab\r',
  '-n',
  '',
  '   spaces   ',
  '#not a comment !bang %s %%',
  'ünïcødé ✓ 日本',
];

/** All of them in one string, for printf '%s' and stdin. */
export const METACHAR_STRING = METACHAR_ARGS.join('|');

/** Playbook args are str.format templates (docs/language.md#templates): literal braces are written doubled. */
export function literal(text: string): string {
  return text.replace(/[{}]/g, (b) => b + b);
}
