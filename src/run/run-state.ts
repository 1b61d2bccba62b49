/**
 * What the executor knows as the run goes: registered results (for outcome sets and
 * `{results.X}` templates), groups decided by filters, hosts dropped by `on_failure: continue`,
 * and each host's end state.
 */
import { endStateOf, isUnreachable, laterEndState } from '../errors.js';
import type { Outcome } from '../lang/group-expr.js';
import { WHY_NO_RESULT, type ResultsEnv } from '../lang/templates.js';
import type { HostEndState, HostResult } from './events.js';

export class RunState {
  private readonly registers = new Map<string, Map<string, HostResult>>();
  private readonly decided = new Map<string, Set<string>>();
  readonly dropped = new Set<string>();
  readonly endState = new Map<string, HostEndState>();
  /** Check mode: hosts with a `would_change` so far (a later read-only failure is then `unknown`). */
  readonly wouldChange = new Set<string>();

  constructor(private readonly allHosts: readonly string[]) {}

  record(register: string | undefined, host: string, result: HostResult): void {
    if (!register) return;
    let m = this.registers.get(register);
    if (!m) this.registers.set(register, (m = new Map<string, HostResult>()));
    m.set(host, result);
  }

  /** Hosts of an outcome set, in definition order. */
  outcome(outcome: Outcome, register: string): string[] {
    const m = this.registers.get(register);
    if (!m) return [];
    return this.allHosts.filter((h) => {
      const r = m.get(h);
      // check_mode: skip, unknown, and `when` false: in none of the step's outcome sets.
      if (!r || r.outcome === 'skipped' || r.outcome === 'unknown' || (r.ok && r.skip_reason === 'when')) return false;
      switch (outcome) {
        case 'ok':
          return r.ok;
        case 'changed':
          return r.ok && r.changed;
        case 'failed':
          return !r.ok && !isUnreachable(r.error);
        case 'unreachable':
          return !r.ok && isUnreachable(r.error);
      }
    });
  }

  decide(group: string, host: string): void {
    let s = this.decided.get(group);
    if (!s) this.decided.set(group, (s = new Set()));
    s.add(host);
  }

  /** Make sure a filter group exists (empty) once its step ran, even if no host passed. */
  touchGroup(group: string): void {
    if (!this.decided.has(group)) this.decided.set(group, new Set());
  }

  groupHosts(group: string): string[] {
    const s = this.decided.get(group);
    return s ? this.allHosts.filter((h) => s.has(h)) : [];
  }

  /**
   * This host's registered values, for `{results.NAME...}`. A null-prototype object so that
   * remote data can never reach Object.prototype through a template path.
   */
  resultsFor(host: string): ResultsEnv {
    const out = Object.create(null) as ResultsEnv;
    const why = new Map<string, string>();
    for (const [name, m] of this.registers) {
      const r = m.get(host);
      if (r?.ok && r.skip_reason !== 'when') out[name] = r.value;
      else if (r?.ok)
        why.set(name, `the step with register: ${name} was skipped on ${host} (its when: was false), so it has no value there`);
      else if (r) why.set(name, `the step with register: ${name} failed on ${host} (${r.error.kind}), so it has no value there`);
    }
    if (why.size > 0) out[WHY_NO_RESULT] = why;
    return out;
  }

  markFailed(host: string, result: HostResult): void {
    if (result.ok) return;
    this.endState.set(host, laterEndState(this.endState.get(host), endStateOf(result.error)));
  }

  touchHost(host: string): void {
    if (!this.endState.has(host)) this.endState.set(host, 'ok');
  }
}
