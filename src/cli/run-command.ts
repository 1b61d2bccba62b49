/**
 * `chopsticks run`: wire the plan to transports, callables and reporters, and handle SIGINT /
 * SIGTERM as docs/cli.md#signals says (stop new work, stop what is in flight, clean up, write the report,
 * exit 130/143; a second signal exits at once).
 */
import { setMaxListeners } from 'node:events';
import { format } from 'node:util';
import type { Reporter, RunEvent } from '../run/events.js';
import type { Plan } from '../compile/plan-types.js';
import { createReporters } from '../report/index.js';
import { planPlaybook, runPlan } from '../api.js';
import type { Command } from './args.js';
import { exitCodeForRun } from './exit-codes.js';
import { loadResume } from './resume-file.js';
import { runUrgentCleanups } from '../transports/urgent-exit.js';
import { warnTo, type Io } from './io.js';

type RunCmd = Extract<Command, { cmd: 'run' }>;

export async function runCommand(c: RunCmd, io: Io, prepared?: Plan): Promise<number> {
  // `exec` hands in the one-step plan it built (./exec-command.ts).
  const compiled = prepared ?? (await planPlaybook(c.playbook, { ...c, onWarning: warnTo(io) }));
  const { plan, seed } = c.resume !== undefined ? loadResume(compiled, c.resume) : { plan: compiled, seed: undefined };

  const reporters: Reporter[] = await createReporters({
    output: c.output,
    json: c.json,
    junit: c.junit,
    events: c.events,
    stdout: io.stdout,
    stderr: io.stderr,
  });
  const emit = (ev: RunEvent) => {
    for (const r of reporters) {
      try {
        r.onEvent(ev);
      } catch (e) {
        io.stderr.write(`chopsticks: a reporter failed: ${(e as Error).message}\n`);
      }
    }
  };

  let closed: Promise<unknown> | undefined;
  // Once: a second signal and the end of the run may both want the reports written.
  const closeReporters = () =>
    (closed ??= Promise.all(
      reporters.map((r) => r.close().catch((e: unknown) => io.stderr.write(`chopsticks: ${e instanceof Error ? e.message : String(e)}\n`))),
    ));

  const interrupt = new AbortController();
  // Every host's operation listens on this one signal; hundreds of listeners are expected, not a leak.
  setMaxListeners(0, interrupt.signal);
  let signalName: 'SIGINT' | 'SIGTERM' | undefined;
  let leaving = false as boolean; // `as`: onSignal sets it while the run is awaited
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (signalName !== undefined) {
      // A second signal, whichever came first: the user (or supervisor) wants out now. Out within
      // about a second, with the reports of what is known so far (nothing that finished is lost)
      // and the run's ephemeral containers removed on the way, as far as that second allows.
      if (leaving) return;
      leaving = true;
      const code = sig === 'SIGINT' ? 130 : 143;
      void leaveNow(closeReporters, code);
      return;
    }
    signalName = sig;
    const notice = `chopsticks: ${sig}: stopping; no new work starts (press Ctrl-C again to exit at once)`;
    if (!reporters.some((r) => r.notice?.(notice) === true)) io.stderr.write(`\n${notice}\n`);
    interrupt.abort();
  };
  // With `--json -` stdout holds the report alone: a custom callable's console.log goes to stderr.
  const restoreConsole = c.json === '-' ? consoleToStderr(io) : () => {};
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    const result = await runPlan(plan, {
      check: c.check,
      diff: c.diff,
      concurrency: c.concurrency,
      resume: seed,
      signal: interrupt.signal,
      onEvent: emit,
    });
    return exitCodeForRun(result.status, signalName);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    restoreConsole();
    // A second signal decides the exit (code and timing): wait for it rather than race it.
    if (leaving) await new Promise(() => {});
    await closeReporters();
  }
}

function consoleToStderr(io: Io): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  const toStderr = (...args: unknown[]) => void io.stderr.write(`${format(...args)}\n`);
  Object.assign(console, { log: toStderr, info: toStderr, debug: toStderr });
  return () => void Object.assign(console, saved);
}

/** Budget of a second signal's exit: reports first, clean-ups alongside, then out. */
const LEAVE_NOW_MS = 1_000;

async function leaveNow(closeReporters: () => Promise<unknown>, code: number): Promise<never> {
  // Not unref'd: it is also what keeps the process alive until then.
  setTimeout(() => process.exit(code), LEAVE_NOW_MS + 500);
  await Promise.all([
    Promise.race([closeReporters(), new Promise((r) => setTimeout(r, LEAVE_NOW_MS).unref())]),
    runUrgentCleanups(LEAVE_NOW_MS),
  ]);
  process.exit(code);
}
