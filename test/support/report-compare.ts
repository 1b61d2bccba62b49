/** What must be equal between a merged shard report and a run of the whole fleet: not timings. */
import type { RunReport } from '../../src/report/report-types.js';

export function comparable(r: RunReport): unknown {
  return {
    playbook_sha256: r.playbook_sha256,
    status: r.status,
    check: r.check,
    groups: r.groups,
    hosts: Object.entries(r.hosts),
    steps: r.steps.map((s) => ({
      index: s.index,
      name: s.name,
      kind: s.kind,
      status: s.status,
      targets: s.targets,
      // Entries, so that the order of keys counts too.
      results: Object.entries(s.results).map(([h, x]) => [
        h,
        x.ok ? { ok: true, value: x.value, changed: x.changed, skipped: x.skipped } : { ok: false, error: x.error },
      ]),
    })),
  };
}
