/**
 * The command line: parse arguments, load and check the playbook, then plan or run it.
 * Exit codes come from exit-codes.ts only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatProblem, PlaybookInvalidError, UsageError, type PlaybookProblem } from '../errors.js';
import { commandHelp, parseCommandLine, USAGE, type Command } from './args.js';
import { EXIT } from './exit-codes.js';
import { planPlaybook } from '../api.js';

import { warnTo, type Io } from './io.js';

export type { Io } from './io.js';

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  ignoreClosedPipes(io);
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`chopsticks: ${e.message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  try {
    return await dispatch(command, io);
  } catch (e) {
    if (e instanceof PlaybookInvalidError) {
      printProblems(e.problems, io);
      // A bad --limit is the command line's fault, not the playbook's (docs/cli.md#exit-codes: exit 5).
      return e.problems.every((p) => p.pos.file === '--limit') ? EXIT.usage : EXIT.invalid;
    }
    if (e instanceof UsageError) {
      io.stderr.write(`chopsticks: ${e.message}\n`);
      return EXIT.usage;
    }
    // A secret that cannot be read (unset variable, missing file): nothing was run.
    if (e instanceof Error && e.name === 'SecretReadError') {
      io.stderr.write(`chopsticks: ${e.message}; nothing was run and no host was contacted\n`);
      return EXIT.usage;
    }
    io.stderr.write(`chopsticks: internal error (a bug; please report it): ${(e as Error | null | undefined)?.stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

async function dispatch(c: Command, io: Io): Promise<number> {
  switch (c.cmd) {
    case 'help':
      io.stdout.write(`${c.for !== undefined ? commandHelp(c.for) : USAGE}\n`);
      return EXIT.ok;
    case 'version':
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT.ok;
    case 'schema':
      io.stdout.write(readFileSync(schemaPath(), 'utf8'));
      return EXIT.ok;
    case 'validate': {
      let bad = 0;
      for (const file of c.playbooks) {
        try {
          await planPlaybook(file, { inventory: c.inventory, onWarning: warnTo(io) });
          io.stdout.write(`${file}: valid\n`);
        } catch (e) {
          if (!(e instanceof PlaybookInvalidError)) throw e;
          bad++;
          printProblems(e.problems, io);
        }
      }
      return bad ? EXIT.invalid : EXIT.ok;
    }
    case 'plan': {
      let plan = await planPlaybook(c.playbook, { ...c, onWarning: warnTo(io) });
      if (c.resume !== undefined) plan = (await import('./resume-file.js')).loadResume(plan, c.resume).plan;
      const { fillPutLocalInfo } = await import('./put-local-info.js');
      const { formatPlanText, planToJson } = await import('../compile/format-plan.js');
      await fillPutLocalInfo(plan);
      io.stdout.write(c.json ? planToJson(plan) : formatPlanText(plan));
      return EXIT.ok;
    }
    case 'hosts': {
      const plan = await planPlaybook(c.playbook, { inventory: c.inventory, vars: c.vars, varFiles: c.varFiles, onWarning: warnTo(io) });
      const { selectHosts, formatHostLine } = await import('./hosts-command.js');
      for (const h of selectHosts(plan, c.expr)) io.stdout.write(`${formatHostLine(h)}\n`);
      return EXIT.ok;
    }
    case 'cleanup': {
      const { cleanupDocker } = await import('./cleanup-command.js');
      return cleanupDocker(c.all, io);
    }
    case 'exec': {
      const [{ execPlan }, { runCommand }] = await Promise.all([import('./exec-command.js'), import('./run-command.js')]);
      const plan = await execPlan(c, io);
      return runCommand({ ...c, cmd: 'run', playbook: c.file, diff: false }, io, plan);
    }
    case 'run': {
      // Loaded only for `run`: reporters, transports and callables are not needed to validate or plan.
      const { runCommand } = await import('./run-command.js');
      return runCommand(c, io);
    }
    case 'report':
    case 'report-merge': {
      const { reportCommand } = await import('./report-command.js');
      return reportCommand(c, io);
    }
  }
}

/**
 * `chopsticks run ... | head` closes our stdout early. An unhandled EPIPE would kill the process
 * mid-run, leaving hosts half-done and no report: instead, output to a closed pipe is dropped
 * and the run finishes (its --json file and exit code still count).
 */
function ignoreClosedPipes(io: Io): void {
  for (const stream of [io.stdout, io.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}

/** Warnings go to stderr as `FILE:LINE:COL: warning: ...` and never change the exit code. */
export function printProblems(problems: readonly PlaybookProblem[], io: Io): void {
  for (const p of problems) io.stderr.write(`${formatProblem(p)}\n`);
  const n = problems.length;
  io.stderr.write(`${n} problem${n === 1 ? '' : 's'}; nothing was run and no host was contacted.\n`);
}

function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

function schemaPath(): string {
  return `${packageRoot()}schema/playbook.schema.json`;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(`${packageRoot()}package.json`, 'utf8')) as { version: string }).version;
}
