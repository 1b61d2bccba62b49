/** Failure thresholds (SPEC §6 `max_failures`): strictly greater than the limit aborts. */
import type { MaxFailures } from '../model/playbook.js';

export function exceedsMaxFailures(limit: MaxFailures | undefined, failures: number, targets: number): boolean {
  if (!limit) return false;
  if ('count' in limit) return failures > limit.count;
  return targets > 0 && (failures * 100) / targets > limit.percent;
}
