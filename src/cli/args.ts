/** Command-line parsing (docs/cli.md#commands). Misuse is a UsageError: exit 5 with a hint. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseShard, type Shard } from '../lang/shard.js';

export const USAGE = `Usage:
  chopsticks run PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V]... [--check]
                          [--json FILE|-] [--junit FILE] [--events FILE] [--resume REPORT]
                          [--output auto|tty|plain|quiet] [--concurrency N] [--shard I/N]
  chopsticks plan PLAYBOOK [--inventory FILE]... [--limit EXPR] [--var K=V]... [--json]
                           [--resume REPORT] [--shard I/N]
  chopsticks validate PLAYBOOK... [--inventory FILE]...
  chopsticks hosts PLAYBOOK [EXPR] [--inventory FILE]...
  chopsticks schema
  chopsticks report REPORT.json --format markdown|html [-o FILE]
  chopsticks report merge SHARD.json... -o OUT.json [--junit FILE]

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
      check: boolean;
      json?: string;
      junit?: string;
      events?: string;
      output: Output;
      concurrency?: number;
      resume?: string;
      shard?: Shard;
    }
  | { cmd: 'plan'; playbook: string; inventory: string[]; limit?: string; vars: Record<string, string>; json: boolean; resume?: string; shard?: Shard }
  | { cmd: 'report'; report: string; format: 'markdown' | 'html'; out?: string }
  | { cmd: 'report-merge'; reports: string[]; out: string; junit?: string }
  | { cmd: 'validate'; playbooks: string[]; inventory: string[] }
  | { cmd: 'hosts'; playbook: string; inventory: string[]; expr?: string; vars: Record<string, string> }
  | { cmd: 'schema' }
  | { cmd: 'help' }
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
  if (!options) throw new UsageError(`unknown command '${cmd}'; expected one of: run, plan, validate, hosts, schema, report`);
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
  const vars = parseVars((v.var as string[] | undefined) ?? []);
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
        check: Boolean(v.check),
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
      return { cmd: 'hosts', playbook, inventory, expr: pos[1], vars };
    }
    case 'schema':
      noMore(0);
      return { cmd: 'schema' };
    case 'report':
      return reportCommand(pos, v);
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
    if (out === undefined) throw new UsageError('report merge: missing -o OUT.json (where to write the merged report; - for standard output)');
    if (v.format !== undefined) throw new UsageError('report merge: --format is for rendering one report; merge writes JSON (then: chopsticks report OUT.json --format markdown)');
    return { cmd: 'report-merge', reports, out, junit: v.junit as string | undefined };
  }
  if (pos.length === 0) throw new UsageError('report: missing REPORT.json (a report written by run --json)');
  if (pos.length > 1) throw new UsageError(`report: unexpected argument '${pos[1]}' (to merge shard reports: chopsticks report merge A.json B.json -o OUT.json)`);
  if (v.junit !== undefined) throw new UsageError('report: --junit goes with report merge');
  const format = v.format as string | undefined;
  if (format !== 'markdown' && format !== 'html') {
    throw new UsageError(`report: --format must be markdown or html${format === undefined ? '' : `, not '${format}'`}`);
  }
  return { cmd: 'report', report: pos[0]!, format, out };
}
