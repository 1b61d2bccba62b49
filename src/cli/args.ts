/** Command-line parsing (docs/cli.md#commands). Misuse is a UsageError: exit 5 with a hint. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseShard, type Shard } from '../lang/shard.js';
import { closest } from '../lang/groups.js';
import { parseDuration } from '../lang/durations.js';

export const USAGE = `Usage:
  chopsticks run PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V|@FILE]... [--check] [--diff]
                          [--json FILE|-] [--junit FILE] [--events FILE] [--resume REPORT]
                          [--output auto|tty|plain|quiet] [--concurrency N] [--shard I/N]
  chopsticks plan PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V|@FILE]... [--json]
                           [--resume REPORT] [--shard I/N]
  chopsticks validate PLAYBOOK... [--inventory FILE]...
  chopsticks hosts PLAYBOOK [EXPR] [--inventory FILE]... [--var K=V]...
  chopsticks exec FILE EXPR [--shell CMD | -- ARGV...] [--become USER] [--timeout DURATION]
                   [run's --inventory, --limit, --var, --check, --json, --junit, --events, --output, --concurrency]
  chopsticks schema
  chopsticks report REPORT.json --format markdown|html [-o FILE]
  chopsticks report merge SHARD.json... -o OUT.json [--junit FILE]
  chopsticks cleanup --docker [--all]

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
      diff: boolean;
      json?: string;
      junit?: string;
      events?: string;
      output: Output;
      concurrency?: number;
      resume?: string;
      shard?: Shard;
    }
  | {
      cmd: 'plan';
      playbook: string;
      inventory: string[];
      limit?: string;
      vars: Record<string, string>;
      varFiles: string[];
      json: boolean;
      resume?: string;
      shard?: Shard;
    }
  | { cmd: 'report'; report: string; format: 'markdown' | 'html'; out?: string }
  | { cmd: 'report-merge'; reports: string[]; out: string; junit?: string }
  | { cmd: 'validate'; playbooks: string[]; inventory: string[] }
  | { cmd: 'hosts'; playbook: string; inventory: string[]; expr?: string; vars: Record<string, string>; varFiles: string[] }
  | {
      cmd: 'exec';
      file: string;
      expr: string;
      argv: string[];
      shell?: string;
      shard?: Shard;
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
  | { cmd: 'cleanup'; docker: boolean; all: boolean }
  /** `for`: the command whose flags to list (`chopsticks run --help`). */
  | { cmd: 'help'; for?: string }
  | { cmd: 'version' };

const COMMON = {
  inventory: { type: 'string', multiple: true, short: 'i' },
  var: { type: 'string', multiple: true, short: 'e' },
  limit: { type: 'string', short: 'l' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** `--shard I/N`, shared by every command that selects hosts (run, plan, exec). */
export const SHARD_OPTION = { shard: { type: 'string' } } as const satisfies ParseArgsConfig['options'];

/** The parsed `--shard`, or undefined; a malformed value is a usage error (exit 5). */
export function shardFrom(values: Record<string, unknown>, cmd: string): Shard | undefined {
  const raw = values.shard;
  if (raw === undefined) return undefined;
  const r = parseShard(typeof raw === 'string' ? raw : JSON.stringify(raw));
  if (!r.ok) throw new UsageError(`${cmd}: ${r.message}`);
  return r.shard;
}

const OPTIONS: Record<string, ParseArgsConfig['options']> = {
  run: {
    ...COMMON,
    check: { type: 'boolean' },
    diff: { type: 'boolean' },
    json: { type: 'string' },
    junit: { type: 'string' },
    events: { type: 'string' },
    output: { type: 'string', short: 'o' },
    concurrency: { type: 'string', short: 'c' },
    resume: { type: 'string' },
    ...SHARD_OPTION,
  },
  plan: { ...COMMON, json: { type: 'boolean' }, resume: { type: 'string' }, ...SHARD_OPTION },
  report: { format: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' }, junit: { type: 'string' }, help: COMMON.help },
  exec: {
    ...COMMON,
    ...SHARD_OPTION,
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
  cleanup: { docker: { type: 'boolean' }, all: { type: 'boolean' }, help: COMMON.help },
};

/** One line per flag for `chopsticks CMD --help` (docs/cli.md has the long form). */
const FLAG_HELP: Record<string, [arg: string, text: string]> = {
  inventory: ['FILE', 'an inventory file (hosts, groups, vars); repeatable'],
  var: ['K=V', 'set vars.K to the string V; repeatable'],
  limit: ['EXPR', "only hosts in this group expression (quote it: --limit 'web - web2')"],
  check: ['', 'dry run: run read-only steps, report what would change, change nothing'],
  diff: ['', 'show (and report) a unified diff of each file a put changes, per host'],
  json: ['FILE|-', 'write the run report as JSON (- for standard output)'],
  junit: ['FILE', 'write a JUnit XML report'],
  events: ['FILE', 'append JSON Lines events as the run goes'],
  output: ['MODE', 'auto (default), tty, plain or quiet'],
  concurrency: ['N', 'at most N hosts at work at once'],
  resume: ['REPORT', 'rerun (plan: preview) only what did not succeed in that earlier run report'],
  shard: ['I/N', 'keep only shard I of N (a stable hash of each host name; for CI matrices)'],
  format: ['FORMAT', 'markdown or html'],
  docker: ['', 'remove ephemeral containers left by dead runs of this machine'],
  all: ['', 'with --docker: every ephemeral container of Chopsticks, whoever made it'],
  shell: ['CMD', 'run CMD through sh -c (instead of -- ARGV...)'],
  become: ['USER', 'run the command as USER through sudo -n'],
  timeout: ['DURATION', 'stop the command on a host after DURATION (e.g. 30s)'],
  help: ['', "show this command's flags"],
};

/** Where a command gives a flag another meaning than FLAG_HELP's. */
const FLAG_HELP_OF: Record<string, Record<string, [arg: string, text: string]>> = {
  report: {
    output: ['FILE', 'write to FILE instead of standard output'],
    junit: ['FILE', 'with merge: also write the merged run as JUnit XML'],
  },
};

const COMMAND_HELP: Record<string, [args: string, text: string]> = {
  run: ['PLAYBOOK', 'Run the playbook on its hosts.'],
  plan: ['PLAYBOOK', 'Print the compiled plan; contacts no host.'],
  validate: ['PLAYBOOK...', 'Check playbooks and print every problem (exit 4 if any).'],
  hosts: ['PLAYBOOK [EXPR]', 'List the hosts (of the group expression EXPR).'],
  schema: ['', 'Print the playbook JSON Schema.'],
  report: ['REPORT.json | merge SHARD.json...', 'Render a run report as Markdown or HTML, or merge shard reports.'],
  exec: ['FILE EXPR (-- ARGV... | --shell CMD)', 'Run one command on the hosts EXPR selects from a playbook or inventory FILE.'],
  cleanup: ['', 'Remove what dead runs left behind (--docker: ephemeral containers).'],
};

export function commandHelp(cmd: string): string {
  const options = OPTIONS[cmd] ?? {};
  const [args, text] = COMMAND_HELP[cmd] ?? ['', ''];
  // --help last: the command's own flags come first.
  const rows = Object.entries(options)
    .sort(([a], [b]) => Number(a === 'help') - Number(b === 'help'))
    .map(([name, o]) => {
      const [arg, line] = FLAG_HELP_OF[cmd]?.[name] ?? FLAG_HELP[name] ?? ['', ''];
      // `plan --json` is a switch, `run --json FILE` takes a file.
      const shown = o.type === 'boolean' ? '' : arg;
      const flag = `--${name}${shown ? ` ${shown}` : ''}${o.short ? `, -${o.short}` : ''}`;
      return [flag, name === 'json' && o.type === 'boolean' ? 'print the plan as JSON' : line] as const;
    });
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `Usage: chopsticks ${cmd}${args ? ` ${args}` : ''}${rows.length > 1 ? ' [flags]' : ''}`,
    text,
    '',
    ...rows.map(([f, l]) => `  ${f.padEnd(width)}  ${l}`),
  ].join('\n');
}

/** `--lmit` → `; did you mean '--limit'?` for an unknown flag of `cmd`. */
function flagHint(cmd: string, message: string): string {
  const m = /Unknown option '(--?[^']+)'/.exec(message);
  if (!m) return '';
  const bad = m[1]!.replace(/^-+/, '').replace(/=.*$/, '');
  const hint = closest(bad, Object.keys(OPTIONS[cmd] ?? {}));
  return hint ? `; did you mean '--${hint}'?` : `; \`chopsticks ${cmd} --help\` lists its flags`;
}

export function parseCommandLine(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command');
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return { cmd: 'help' };
  if (cmd === '--version' || cmd === '-V') return { cmd: 'version' };
  const options = OPTIONS[cmd];
  if (!options)
    throw new UsageError(`unknown command '${cmd}'; expected one of: run, plan, exec, validate, hosts, schema, report, cleanup`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional.*$/s, '');
    throw new UsageError(`${cmd}: ${message.replace(/^Unknown option/, 'unknown option')}${flagHint(cmd, message)}`);
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) return { cmd: 'help', for: cmd };
  const pos = parsed.positionals;
  const inventory = (v.inventory as string[] | undefined) ?? [];
  const varArgs = (v.var as string[] | undefined) ?? [];
  // `--var @FILE`: a YAML/JSON file of typed vars (docs/language.md#vars-files).
  const varFiles = varArgs.filter((a) => a.startsWith('@')).map((a) => a.slice(1));
  if (varFiles.some((f) => f === '')) throw new UsageError('--var @FILE needs a file name after @');
  const vars = parseVars(varArgs.filter((a) => !a.startsWith('@')));
  // `-` is standard output for --json only; a file named `-` would be a silent surprise.
  for (const flag of ['junit', 'events'])
    if (v[flag] === '-') throw new UsageError(`${cmd}: --${flag} needs a FILE; only --json can write to standard output (-)`);
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
        diff: Boolean(v.diff),
        json: v.json as string | undefined,
        junit: v.junit as string | undefined,
        events: v.events as string | undefined,
        output: output as Output,
        concurrency,
        resume: v.resume as string | undefined,
        shard: shardFrom(v, 'run'),
      };
    }
    case 'plan': {
      const playbook = one('PLAYBOOK');
      noMore(1);
      return {
        cmd: 'plan',
        playbook,
        inventory,
        limit: v.limit as string | undefined,
        vars,
        varFiles,
        json: Boolean(v.json),
        resume: v.resume as string | undefined,
        shard: shardFrom(v, 'plan'),
      };
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
      if ((shell === undefined) === (cmdArgv.length === 0))
        throw new UsageError('exec: give the command as -- ARGV... or as --shell CMD (one of them)');
      let timeout: number | undefined;
      if (v.timeout !== undefined) {
        timeout = parseDuration(v.timeout as string);
        if (timeout === undefined || timeout === 0)
          throw new UsageError(`exec: --timeout must be a duration such as 30s, not '${String(v.timeout)}'`);
      }
      const output = (v.output as string | undefined) ?? 'auto';
      if (!['auto', 'tty', 'plain', 'quiet'].includes(output))
        throw new UsageError(`exec: --output must be auto, tty, plain or quiet, not '${output}'`);
      let concurrency: number | undefined;
      if (v.concurrency !== undefined) {
        concurrency = Number(v.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1)
          throw new UsageError(`exec: --concurrency must be a whole number of at least 1, not '${String(v.concurrency)}'`);
      }
      return {
        cmd: 'exec',
        file,
        expr,
        argv: cmdArgv,
        shard: shardFrom(v, 'exec'),
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
    case 'report':
      return reportCommand(pos, v);
    case 'cleanup':
      noMore(0);
      if (!v.docker)
        throw new UsageError('cleanup: say what to clean up: --docker (ephemeral containers of dead runs; add --all for every one)');
      return { cmd: 'cleanup', docker: true, all: Boolean(v.all) };
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

function reportCommand(pos: string[], v: Record<string, string | string[] | boolean | undefined>): Command {
  const out = v.output as string | undefined;
  if (out === '') throw new UsageError('report: -o needs a FILE');
  if (pos[0] === 'merge') {
    const reports = pos.slice(1);
    if (reports.length === 0) throw new UsageError('report merge: missing the shard reports (report merge A.json B.json ... -o OUT.json)');
    if (out === undefined)
      throw new UsageError('report merge: missing -o OUT.json (where to write the merged report; - for standard output)');
    if (v.format !== undefined)
      throw new UsageError(
        'report merge: --format is for rendering one report; merge writes JSON (then: chopsticks report OUT.json --format markdown)',
      );
    return { cmd: 'report-merge', reports, out, junit: v.junit as string | undefined };
  }
  if (pos.length === 0) throw new UsageError('report: missing REPORT.json (a report written by run --json)');
  if (pos.length > 1)
    throw new UsageError(
      `report: unexpected argument '${pos[1]}' (to merge shard reports: chopsticks report merge A.json B.json -o OUT.json)`,
    );
  if (v.junit !== undefined) throw new UsageError('report: --junit goes with report merge');
  const format = v.format as string | undefined;
  if (format !== 'markdown' && format !== 'html') {
    throw new UsageError(`report: --format must be markdown or html${format === undefined ? '' : `, not '${format}'`}`);
  }
  return { cmd: 'report', report: pos[0]!, format, out };
}
