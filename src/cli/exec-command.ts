/**
 * `chopsticks exec FILE EXPR -- ARGV...` / `--shell CMD` (docs/cli.md#exec): one command on the
 * hosts EXPR selects from a playbook or an inventory file. The playbook's own steps are not run:
 * a one-step plan is built in memory and run like `run` (same reporters, exit codes, --become).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UsageError, type PlaybookProblem } from '../errors.js';
import type { Plan, PlanStep } from '../compile/plan-types.js';
import { formatGroupExpr } from '../lang/groups.js';
import type { StepPolicy } from '../model/playbook.js';
import { checkCommandLineExpr } from '../validate/rules/limit.js';
import { hostsInShard } from '../lang/shard.js';
import { planPlaybook } from '../api.js';
import type { Command } from './args.js';
import { warnTo, type Io } from './io.js';
import { selectHosts } from './hosts-command.js';

type ExecCmd = Extract<Command, { cmd: 'exec' }>;

/** A file with `steps:` is a playbook; anything else is read as an inventory (ours or Ansible's). */
function isPlaybook(file: string): boolean {
  try {
    const v = parse(readFileSync(file, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && 'steps' in v;
  } catch {
    return false;
  }
}

export async function execPlan(c: ExecCmd, io: Io): Promise<Plan> {
  let base: Plan;
  const opts = { inventory: c.inventory, vars: c.vars, varFiles: c.varFiles, onWarning: warnTo(io) };
  if (isPlaybook(c.file)) {
    base = await planPlaybook(c.file, opts);
  } else {
    // An inventory alone: a throwaway playbook that names it, so every inventory format works.
    const dir = mkdtempSync(join(tmpdir(), 'chopsticks-exec-'));
    try {
      const pb = join(dir, 'exec.yaml');
      writeFileSync(pb, `version: 1\ninventory: ${JSON.stringify(resolve(c.file))}\nsteps: [ { call: ping } ]\n`);
      base = await planPlaybook(pb, opts);
      base = { ...base, playbook: c.file, baseDir: process.cwd() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const text = c.limit !== undefined ? `(${c.expr}) & (${c.limit})` : c.expr;
  // Each checked on its own, so a mistake is placed in what the user typed.
  const problems: PlaybookProblem[] = [];
  checkCommandLineExpr('exec', c.expr, base, problems);
  if (c.limit !== undefined) checkCommandLineExpr('--limit', c.limit, base, problems);
  if (problems.length > 0)
    throw new UsageError(
      problems.map((p) => `${p.message} (at column ${p.pos.col} of '${p.pos.file === 'exec' ? c.expr : c.limit}')`).join('\n'),
    );
  const on = checkCommandLineExpr('exec', text, base, problems)!; // both parts are valid, so their & is
  // As for run's --limit: an expression that leaves nothing to run is a mistake of the command
  // line, a mistyped glob most often (an empty shard is not).
  if (selectHosts(base, text).length === 0)
    throw new UsageError(
      `${c.limit !== undefined ? `--limit '${c.limit}' selects no host of '${c.expr}'` : `the expression ${c.expr} selects no host`}; nothing would run (\`chopsticks hosts FILE EXPR\` lists what an expression selects)`,
    );
  // --shard keeps this shard's hosts, as for run (lang/shard.ts).
  const inShard = c.shard
    ? new Set(
        hostsInShard(
          base.hosts.map((h) => h.name),
          c.shard,
        ),
      )
    : undefined;
  const targets = selectHosts(base, text)
    .map((h) => h.name)
    .filter((h) => !inShard || inShard.has(h));
  const policy: StepPolicy = {
    on_failure: 'continue',
    retries: 0,
    retry_delay_ms: 1000,
    ...(c.become !== undefined ? { become: c.become } : {}),
  };
  if (c.timeout !== undefined) policy.timeout_ms = c.timeout;
  const shown = c.shell ?? c.argv.join(' ');
  const step = {
    kind: 'call',
    index: 0,
    name: `exec: ${shown.length > 60 ? `${shown.slice(0, 59)}…` : shown}`,
    on,
    onText: formatGroupExpr(on),
    targets: { lower: targets, upper: targets },
    policy,
    pos: { file: c.file, line: 1, col: 1 },
    callable: c.shell !== undefined ? 'shell' : 'command',
    readonly: false,
    // Braces are literal here: the command is not a template.
    args: c.shell !== undefined ? { cmd: escapeBraces(c.shell) } : { argv: c.argv.map(escapeBraces) },
  } as PlanStep;
  // The command is not a template: the playbook's secrets are not needed, so not read.
  return { ...base, steps: [step], secrets: {}, limit: undefined, serial: undefined, ...(c.shard ? { shard: c.shard } : {}) };
}

function escapeBraces(s: string): string {
  return s.replace(/[{}]/g, (b) => b + b);
}
