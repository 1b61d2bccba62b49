/**
 * ssh hands the remote login shell one command string, so argv must be quoted for a POSIX
 * shell. Single quotes keep every byte literal; a single quote itself becomes '\''.
 */
export function shQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_\/.,:@%+-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shJoinArgv(argv: string[]): string {
  return argv.map(shQuote).join(' ');
}
