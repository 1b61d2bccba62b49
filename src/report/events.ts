/**
 * `--events FILE`: JSON Lines as the run goes, for dashboards and long CI jobs (`tail -F`).
 * Each line is written with a synchronous append, so a reader sees every event as soon
 * as it happened and a killed run leaves whole lines only.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Reporter, RunEvent } from '../run/events.js';
import { UsageError } from '../errors.js';
import { reportFailure } from './safe.js';

/** The line for one event; `run_started` carries a summary of the plan, not the plan. */
export function eventLine(ev: RunEvent, now: Date = new Date()): Record<string, unknown> {
  const ts = now.toISOString();
  if (ev.type !== 'run_started') return { ts, ...ev };
  const p = ev.plan;
  return {
    ts,
    type: ev.type,
    started_at: ev.started_at,
    check: ev.check,
    playbook: p.playbook,
    playbook_sha256: p.playbook_sha256,
    ...(p.name !== undefined ? { name: p.name } : {}),
    strategy: p.strategy,
    hosts: p.hosts.map((h) => h.name),
    steps: p.steps.map((s) => ({ index: s.index, name: s.name, kind: s.kind, on: s.onText })),
  };
}

export class EventsReporter implements Reporter {
  private fd: number | undefined;

  constructor(
    private readonly path: string,
    private readonly stderr: NodeJS.WritableStream,
  ) {
    try {
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw new UsageError(`--events ${path}: cannot open for writing: ${(e as Error).message}`);
    }
  }

  onEvent(ev: RunEvent): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, `${JSON.stringify(eventLine(ev))}\n`);
    } catch (e) {
      reportFailure(this.stderr, `events file ${this.path}`, e);
      this.closeFd();
    }
  }

  async close(): Promise<void> {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed by the OS; nothing to flush.
    }
    this.fd = undefined;
  }
}
