/**
 * `chopsticks run`: wire the plan to transports, callables and reporters, and handle SIGINT /
 * SIGTERM as SPEC §7 says (stop new work, stop what is in flight, clean up, write the report,
 * exit 130/143; a second signal exits at once).
 */
import { setMaxListeners } from 'node:events';
import type { Reporter, RunEvent } from '../run/events.js';
import type { Plan } from '../compile/plan-types.js';
import { createReporters } from '../report/index.js';
import { planPlaybook, runPlan } from '../api.js';
import type { Command } from './args.js';
import { exitCodeForRun } from './exit-codes.js';
import { loadResume } from './resume-file.js';
import { warn, type Io } from './main.js';

type RunCmd = Extract<Command, { cmd: 'run' }>;

export async function runCommand(c: RunCmd, io: Io, prepared?: Plan): Promise<number> {
  // `exec` hands in the one-step plan it built (./exec-command.ts).
  const compiled = prepared ?? (await planPlaybook(c.playbook, { ...c, onWarning: warn(io) }));
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

  const interrupt = new AbortController();
  // Every host's operation listens on this one signal; hundreds of listeners are expected, not a leak.
  setMaxListeners(0, interrupt.signal);
  let signalName: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (signalName !== undefined) {
      // A second signal, whichever came first: the user (or supervisor) wants out now.
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    signalName = sig;
    io.stderr.write(`\nchopsticks: ${sig}: stopping; no new work starts (press Ctrl-C again to exit at once)\n`);
    interrupt.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    const result = await runPlan(plan, { check: c.check, concurrency: c.concurrency, resume: seed, signal: interrupt.signal, onEvent: emit });
    return exitCodeForRun(result.status, signalName);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await Promise.all(reporters.map((r) => r.close().catch((e: Error) => io.stderr.write(`chopsticks: ${e.message}\n`))));
  }
}
