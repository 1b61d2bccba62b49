/** Command-line parsing (SPEC §7). Misuse is a UsageError: exit 5 with a hint. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseDuration } from '../lang/durations.js';

export const USAGE = `Usage:
  chopsticks run PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V|@FILE]... [--check]
                          [--json FILE|-] [--junit FILE] [--events FILE] [--resume REPORT]
                          [--output auto|tty|plain|quiet] [--concurrency N]
  chopsticks plan PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V|@FILE]... [--json]
                           [--resume REPORT]
  chopsticks validate PLAYBOOK... [--inventory FILE]...
  chopsticks hosts PLAYBOOK [EXPR] [--inventory FILE]...
  chopsticks exec FILE EXPR [--shell CMD | -- ARGV...] [--become USER] [--timeout DURATION]
                   [run's --inventory, --limit, --var, --check, --json, --junit, --events, --output, --concurrency]
  chopsticks schema

Exit codes: 0 ok, 2 some host failed or was unreachable, 3 aborted by a policy,
4 invalid playbook, 5 wrong command line, 1 internal error, 130/143 interrupted.`;

export type Output = 'auto' | 'tty' | 'plain' | 'quiet';

export type Command =
  | {
      cmd: 'run';
      playbook: string;
      inventory: string[];
      limit?: string;
      vars: Record<string, string>;
      varFiles: string[];
      check: boolean;
      json?: string;
      junit?: string;
      events?: string;
      output: Output;
      concurrency?: number;
      resume?: string;
    }
  | { cmd: 'plan'; playbook: string; inventory: string[]; limit?: string; vars: Record<string, string>; varFiles: string[]; json: boolean; resume?: string }
  | { cmd: 'validate'; playbooks: string[]; inventory: string[] }
  | { cmd: 'hosts'; playbook: string; inventory: string[]; expr?: string; vars: Record<string, string>; varFiles: string[] }
  | {
      cmd: 'exec';
      file: string;
      expr: string;
      argv: string[];
      shell?: string;
      become?: string;
      timeout?: number;
      inventory: string[];
      limit?: string;
      vars: Record<string, string>;
      varFiles: string[];
      check: boolean;
      json?: string;
      junit?: string;
      events?: string;
      output: Output;
      concurrency?: number;
    }
  | { cmd: 'schema' }
  | { cmd: 'help' }
  | { cmd: 'version' };

const COMMON = {
  inventory: { type: 'string', multiple: true, short: 'i' },
  var: { type: 'string', multiple: true, short: 'e' },
  limit: { type: 'string', short: 'l' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const OPTIONS: Record<string, ParseArgsConfig['options']> = {
  run: {
    ...COMMON,
    check: { type: 'boolean' },
    json: { type: 'string' },
    junit: { type: 'string' },
    events: { type: 'string' },
    output: { type: 'string', short: 'o' },
    concurrency: { type: 'string', short: 'c' },
    resume: { type: 'string' },
  },
  plan: { ...COMMON, json: { type: 'boolean' }, resume: { type: 'string' } },
  exec: {
    ...COMMON,
    check: { type: 'boolean' },
    json: { type: 'string' },
    junit: { type: 'string' },
    events: { type: 'string' },
    output: { type: 'string', short: 'o' },
    concurrency: { type: 'string', short: 'c' },
    shell: { type: 'string' },
    become: { type: 'string', short: 'b' },
    timeout: { type: 'string' },
  },
  validate: { inventory: COMMON.inventory, help: COMMON.help },
  hosts: { inventory: COMMON.inventory, var: COMMON.var, help: COMMON.help },
  schema: { help: COMMON.help },
};

export function parseCommandLine(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command');
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return { cmd: 'help' };
  if (cmd === '--version' || cmd === '-V') return { cmd: 'version' };
  const options = OPTIONS[cmd];
  if (!options) throw new UsageError(`unknown command '${cmd}'; expected one of: run, plan, exec, validate, hosts, schema`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) return { cmd: 'help' };
  const pos = parsed.positionals;
  const inventory = (v.inventory as string[] | undefined) ?? [];
  const varArgs = (v.var as string[] | undefined) ?? [];
  // `--var @FILE`: a YAML/JSON file of typed vars (docs/language.md#vars-files).
  const varFiles = varArgs.filter((a) => a.startsWith('@')).map((a) => a.slice(1));
  if (varFiles.some((f) => f === '')) throw new UsageError('--var @FILE needs a file name after @');
  const vars = parseVars(varArgs.filter((a) => !a.startsWith('@')));
  const one = (what: string): string => {
    if (pos.length === 0) throw new UsageError(`${cmd}: missing ${what}`);
    return pos[0]!;
  };
  const noMore = (n: number) => {
    if (pos.length > n) throw new UsageError(`${cmd}: unexpected argument '${pos[n]}'`);
  };
  switch (cmd) {
    case 'run': {
      const playbook = one('PLAYBOOK');
      noMore(1);
      const output = (v.output as string | undefined) ?? 'auto';
      if (!['auto', 'tty', 'plain', 'quiet'].includes(output)) {
        throw new UsageError(`run: --output must be auto, tty, plain or quiet, not '${output}'`);
      }
      let concurrency: number | undefined;
      if (v.concurrency !== undefined) {
        concurrency = Number(v.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) {
          throw new UsageError(`run: --concurrency must be a whole number of at least 1, not '${String(v.concurrency)}'`);
        }
      }
      if (v.json !== undefined && v.json === '') throw new UsageError('run: --json needs a FILE or -');
      return {
        cmd: 'run',
        playbook,
        inventory,
        limit: v.limit as string | undefined,
        vars,
        varFiles,
        check: Boolean(v.check),
        json: v.json as string | undefined,
        junit: v.junit as string | undefined,
        events: v.events as string | undefined,
        output: output as Output,
        concurrency,
        resume: v.resume as string | undefined,
      };
    }
    case 'plan': {
      const playbook = one('PLAYBOOK');
      noMore(1);
      return { cmd: 'plan', playbook, inventory, limit: v.limit as string | undefined, vars, varFiles, json: Boolean(v.json), resume: v.resume as string | undefined };
    }
    case 'validate':
      if (pos.length === 0) throw new UsageError('validate: missing PLAYBOOK');
      return { cmd: 'validate', playbooks: pos, inventory };
    case 'hosts': {
      const playbook = one('PLAYBOOK');
      noMore(2);
      return { cmd: 'hosts', playbook, inventory, expr: pos[1], vars, varFiles };
    }
    case 'exec': {
      // `run`'s options, then what to run: positionals FILE EXPR [ARGV...] (ARGV after `--`).
      if (pos.length < 2) throw new UsageError('exec: needs FILE and EXPR, then -- ARGV... or --shell CMD');
      const [file, expr, ...cmdArgv] = pos as [string, string, ...string[]];
      const shell = v.shell as string | undefined;
      if ((shell === undefined) === (cmdArgv.length === 0)) throw new UsageError('exec: give the command as -- ARGV... or as --shell CMD (one of them)');
      let timeout: number | undefined;
      if (v.timeout !== undefined) {
        timeout = parseDuration(v.timeout as string);
        if (timeout === undefined || timeout === 0) throw new UsageError(`exec: --timeout must be a duration such as 30s, not '${String(v.timeout)}'`);
      }
      const output = (v.output as string | undefined) ?? 'auto';
      if (!['auto', 'tty', 'plain', 'quiet'].includes(output)) throw new UsageError(`exec: --output must be auto, tty, plain or quiet, not '${output}'`);
      let concurrency: number | undefined;
      if (v.concurrency !== undefined) {
        concurrency = Number(v.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`exec: --concurrency must be a whole number of at least 1, not '${String(v.concurrency)}'`);
      }
      return {
        cmd: 'exec',
        file,
        expr,
        argv: cmdArgv,
        ...(shell !== undefined ? { shell } : {}),
        ...(v.become !== undefined ? { become: v.become as string } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        inventory,
        limit: v.limit as string | undefined,
        vars,
        varFiles,
        check: Boolean(v.check),
        json: v.json as string | undefined,
        junit: v.junit as string | undefined,
        events: v.events as string | undefined,
        output: output as Output,
        concurrency,
      };
    }
    case 'schema':
      noMore(0);
      return { cmd: 'schema' };
  }
  throw new UsageError(`unknown command '${cmd}'`);
}

function parseVars(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var takes NAME=VALUE, not '${kv}'`);
    const name = kv.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--var: '${name}' is not a valid variable name`);
    out[name] = kv.slice(eq + 1);
  }
  return out;
}
