/**
 * `chopsticks run`: wire the plan to transports, callables and reporters, and handle SIGINT /
 * SIGTERM as SPEC §7 says (stop new work, stop what is in flight, clean up, write the report,
 * exit 130/143; a second SIGINT exits at once).
 */
import { setMaxListeners } from 'node:events';
import { PlaybookInvalidError } from '../errors.js';
import type { Plan } from '../compile/plan-types.js';
import type { HostSpec } from '../model/playbook.js';
import type { Callable } from '../callables/types.js';
import type { Reporter, RunEvent } from '../run/events.js';
import { execute } from '../run/executor.js';
import { createReporters } from '../report/index.js';
import { openHostSession } from '../transports/index.js';
import { builtinCallables, loadCustomCallable } from '../callables/index.js';
import type { Command } from './args.js';
import { exitCodeForRun } from './exit-codes.js';
import { loadAndCompile } from './load.js';
import { loadResume } from './resume-file.js';
import type { Io } from './main.js';

type RunCmd = Extract<Command, { cmd: 'run' }>;

export async function runCommand(c: RunCmd, io: Io): Promise<number> {
  const loaded = await loadAndCompile(c);
  if (!loaded.plan) throw new PlaybookInvalidError(loaded.problems);
  const { plan, seed } = c.resume !== undefined ? loadResume(loaded.plan, c.resume) : { plan: loaded.plan, seed: undefined };

  const reporters: Reporter[] = createReporters({
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
    signalName ??= sig;
    io.stderr.write(`\nchopsticks: ${sig}: stopping; no new work starts (press Ctrl-C again to exit at once)\n`);
    interrupt.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    emit({ type: 'run_started', plan, check: c.check, started_at: new Date().toISOString() });
    const result = await execute({
      plan,
      resume: seed,
      check: c.check,
      concurrency: c.concurrency,
      emit,
      signal: interrupt.signal,
      openSession: (host, signal) => openHostSession(host, { plan, signal, warn: (message) => emit({ type: 'warning', message, host: host.name }) }),
      resolveCallable: callableResolver(plan),
    });
    return exitCodeForRun(result.status, signalName);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await Promise.all(reporters.map((r) => r.close().catch((e: Error) => io.stderr.write(`chopsticks: ${e.message}\n`))));
  }
}

/** Built-ins by name; custom callables loaded once, on first use. */
function callableResolver(plan: Plan): (name: string) => Promise<Callable> {
  const loaded = new Map<string, Promise<Callable>>();
  return (name) => {
    const builtin = builtinCallables.get(name);
    if (builtin) return Promise.resolve(builtin);
    let p = loaded.get(name);
    if (!p) {
      const ref = plan.callables[name];
      if (!ref) return Promise.reject(new Error(`unknown callable '${name}' (validation should have caught this)`));
      p = loadCustomCallable(ref.module, ref.exportName, name);
      loaded.set(name, p);
    }
    return p;
  };
}

export type { HostSpec };
