/** `serial:` batches (docs/language.md#strategies-and-rolling-batches): rolling deployments over the hosts the playbook targets. */
import type { SerialSpec } from '../model/playbook.js';

/**
 * Split `hosts` (definition order) into batches. Each entry of `serial` sizes one batch; the last
 * entry repeats until every host is in a batch, as Ansible's `serial` list does. A percentage is of
 * the whole host list, rounded down, and never less than one host.
 */
export function computeBatches(hosts: readonly string[], serial: SerialSpec | undefined): string[][] {
  if (!serial || serial.length === 0 || hosts.length === 0) return hosts.length ? [[...hosts]] : [];
  const batches: string[][] = [];
  let start = 0;
  let i = 0;
  while (start < hosts.length) {
    const spec = serial[Math.min(i, serial.length - 1)]!;
    const size = 'count' in spec ? spec.count : Math.floor((hosts.length * spec.percent) / 100);
    const n = Math.max(1, size);
    batches.push(hosts.slice(start, start + n));
    start += n;
    i++;
  }
  return batches;
}
