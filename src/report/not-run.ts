/**
 * What the human views say of work that never started: a step not run (once per batch: the
 * executor reports each remaining step again for every batch that never started), and at the
 * end the hosts whose batch never started.
 */
import type { HostEndState } from '../run/events.js';

export class NotRunTracker {
  private reported = new Set<number>();
  private readonly started = new Set<string>();

  batchStarted(hosts: readonly string[]): void {
    this.reported = new Set();
    for (const h of hosts) this.started.add(h);
  }

  /** A step finished (or was reported not run): true the first time in this batch. */
  firstInBatch(step: number): boolean {
    if (this.reported.has(step)) return false;
    this.reported.add(step);
    return true;
  }

  /** Hosts cancelled before their batch started. */
  notStarted(hosts: Readonly<Record<string, HostEndState>>): string[] {
    return Object.entries(hosts)
      .filter(([h, s]) => s === 'cancelled' && !this.started.has(h))
      .map(([h]) => h);
  }
}

export const NOT_STARTED_NOTE = '(cancelled: the run stopped before their batch)';
