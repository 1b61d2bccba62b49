/**
 * Hosts that exist only in the test: a plan with `call: fake` steps whose result per host is
 * scripted, run through the real executor in-process. For the scheduling and failure policy
 * (src/run/); transports are tested against real servers elsewhere.
 */
import { HostError, type ErrorKind } from '../../src/errors.js';
import type { Plan } from '../../src/compile/plan-types.js';
import type { Callable } from '../../src/callables/types.js';
import type { Json, StepPolicy } from '../../src/model/playbook.js';
import type { PlanStep } from '../../src/steps/index.js';
import type { HostSession } from '../../src/transports/session.js';
import { execute, type ExecuteResult } from '../../src/run/executor.js';
import type { RunEvent } from '../../src/run/events.js';

/** What a host does in one step: a value, an error kind, or a script of attempts. */
export type Scripted = Json | { error: ErrorKind } | { delay: number; then: Scripted } | { attempts: Scripted[] };

export interface FakeStep {
  name?: string;
  on?: string[];
  register?: string;
  /** host → outcome (default: "ok" value true). */
  results?: Record<string, Scripted>;
  policy?: Partial<StepPolicy>;
  /** Make this a filter: the hosts whose value equals `member` join `as`. */
  filter?: { as: string; member: boolean };
}

const pos = { file: 'fake.yaml', line: 1, col: 1 };

export function fakePlan(hosts: string[], steps: FakeStep[], extra: Partial<Plan> = {}): Plan {
  return {
    version: 1,
    playbook: 'fake.yaml',
    playbook_sha256: '0'.repeat(64),
    baseDir: '/nonexistent',
    vars: {},
    hosts: hosts.map((name) => ({ name, transport: 'local', vars: {}, pos })),
    groups: [],
    strategy: 'linear',
    callables: {},
    ...extra,
    steps: steps.map((s, index): PlanStep => {
      const targets = s.on ?? hosts;
      const on = targets
        .map((name): PlanStep['on'] => ({ type: 'name', name, pos: 0 }))
        .reduce((left, right) => ({ type: 'binary', op: '|', left, right, pos: 0 }));
      return {
        kind: 'call',
        index,
        name: s.name ?? `step${index + 1}`,
        on,
        onText: targets.join(' | '),
        targets: { lower: targets, upper: targets },
        ...(s.register ? { register: s.register } : {}),
        ...(s.filter ? { group: { name: s.filter.as, member: s.filter.member } } : {}),
        policy: { on_failure: 'continue', retries: 0, retry_delay_ms: 0, ...s.policy },
        pos,
        callable: `fake${index}`,
        readonly: true,
        args: {},
      };
    }),
  };
}

export interface FakeRun extends ExecuteResult {
  events: RunEvent[];
  /** step index → host → attempts made */
  attempts: Map<number, Map<string, number>>;
}

export async function runFake(plan: Plan, steps: FakeStep[], opts: { signal?: AbortSignal; check?: boolean } = {}): Promise<FakeRun> {
  const events: RunEvent[] = [];
  const attempts = new Map<number, Map<string, number>>();
  const callable = (index: number): Callable => ({
    name: `fake${index}`,
    readonly: true,
    async invoke(ctx) {
      const per = attempts.get(index) ?? new Map<string, number>();
      attempts.set(index, per);
      const n = (per.get(ctx.hostName) ?? 0) + 1;
      per.set(ctx.hostName, n);
      let script: Scripted = steps[index]!.results?.[ctx.hostName] ?? true;
      if (typeof script === 'object' && 'attempts' in script && Array.isArray(script.attempts)) {
        script = script.attempts[Math.min(n, script.attempts.length) - 1]!;
      }
      return { value: await play(script, ctx.hostName, ctx.signal), changed: false };
    },
  });
  const result = await execute({
    plan,
    check: opts.check ?? false,
    emit: (ev) => events.push(ev),
    signal: opts.signal ?? new AbortController().signal,
    openSession: async () => ({ close: async () => {} }) as unknown as HostSession,
    resolveCallable: async (name) => callable(Number(name.slice(4))),
  });
  return { ...result, events, attempts };
}

async function play(script: Scripted, host: string, signal: AbortSignal): Promise<Json> {
  if (script !== null && typeof script === 'object' && !Array.isArray(script)) {
    if ('error' in script && typeof script.error === 'string')
      throw new HostError(script.error as ErrorKind, `${host}: scripted ${script.error}`);
    if ('delay' in script && typeof script.delay === 'number') {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, script.delay as number);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(new HostError('cancelled', `${host}: cancelled`));
          },
          { once: true },
        );
      });
      return play((script as { then: Scripted }).then, host, signal);
    }
  }
  return script;
}

/** host → 'ok' | error kind, for one step's results in the events. */
export function outcomes(run: FakeRun, step: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ev of run.events) {
    if (ev.type === 'host_result' && ev.step === step) out[ev.host] = ev.result.ok ? 'ok' : ev.result.error.kind;
  }
  return out;
}

export function stepStatuses(run: FakeRun): string[] {
  const out: string[] = [];
  for (const ev of run.events) if (ev.type === 'step_finished') out[ev.step] = ev.status;
  return out;
}

export function targetsOf(run: FakeRun, step: number): string[] {
  const ev = run.events.find((e) => e.type === 'step_started' && e.step === step);
  return ev?.type === 'step_started' ? ev.targets : [];
}
