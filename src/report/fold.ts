/**
 * Identical results fold (docs/cli.md#output-modes): hosts whose outcome is the same are shown once,
 * named compactly, and the hosts that differ stand out.
 */
import { foldHostNames } from '../lang/hostlist.js';
import type { HostResult } from '../run/events.js';
import { canonicalJson } from './canonical-json.js';
import { isErrorLabel, labelOf, type ResultLabel } from './outcomes.js';

export { isErrorLabel, labelOf };
export type FoldLabel = ResultLabel;

export interface FoldedResult {
  label: FoldLabel;
  hosts: string[];
  /** `web[01-40]` */
  hostText: string;
  /** The shared value (canonical JSON) or error text (`kind: msg`); '' for skipped. */
  detail: string;
}

const LABEL_ORDER: Record<FoldLabel, number> = {
  ok: 0,
  changed: 1,
  would_change: 2,
  skipped: 3,
  unknown: 4,
  failed: 5,
  unreachable: 6,
  cancelled: 7,
};

/**
 * How errors fold. On the screen only when their text is the same to the letter: a message names
 * its host (`web3: ...`), so each failed host gets its own line with its whole message
 * (docs/cli.md#output-modes). A report (Markdown, HTML) read in a pull request folds messages
 * that differ only in that prefix, shown with `<host>` in its place, so 500 hosts failing alike
 * are one entry. Only the prefix: a short host name may also occur inside the rest of the message.
 */
function errorKey(host: string, kind: string, msg: string, byPrefix: boolean): string {
  const prefix = `${host}: `;
  return `${kind}: ${byPrefix && host !== '' && msg.startsWith(prefix) ? `<host>: ${msg.slice(prefix.length)}` : msg}`;
}

/**
 * Groups results by outcome. Biggest successful group first, so the odd ones come after it;
 * failures last. Within a group, hosts keep the order given (the step's target order).
 */
export function foldResults(
  entries: Array<{ host: string; result: HostResult }>,
  hostOrder?: readonly string[],
  opts: { errorsAlikeButHost?: boolean } = {},
): FoldedResult[] {
  const byPrefix = opts.errorsAlikeButHost === true;
  if (hostOrder) {
    // Results arrive in completion order; show hosts in definition order, never arrival order.
    const rank = new Map(hostOrder.map((h, i) => [h, i]));
    entries = [...entries].sort((a, b) => (rank.get(a.host) ?? Infinity) - (rank.get(b.host) ?? Infinity));
  }
  const groups = new Map<string, { label: FoldLabel; hosts: string[]; first: { host: string; result: HostResult } }>();
  for (const e of entries) {
    const label = labelOf(e.result);
    const key = e.result.ok
      ? `${label}\u0000${label === 'skipped' ? (e.result.skip_reason ?? '') : canonicalJson(e.result.value)}`
      : `${label}\u0000${errorKey(e.host, e.result.error.kind, e.result.error.msg, byPrefix)}`;
    const g = groups.get(key);
    if (g) g.hosts.push(e.host);
    else groups.set(key, { label, hosts: [e.host], first: e });
  }
  const folded = [...groups.values()].map((g): FoldedResult => {
    const r = g.first.result;
    let detail: string;
    if (r.ok) detail = g.label === 'skipped' ? (r.skip_reason ?? '') : canonicalJson(r.value);
    else detail = errorKey(g.first.host, r.error.kind, r.error.msg, byPrefix && g.hosts.length > 1);
    return { label: g.label, hosts: g.hosts, hostText: foldHostNames(g.hosts), detail };
  });
  // Stable sort: successes before failures, bigger groups first within the same class.
  return folded
    .map((f, i) => ({ f, i }))
    .sort((a, b) => {
      const fa = isErrorLabel(a.f.label) ? 1 : 0;
      const fb = isErrorLabel(b.f.label) ? 1 : 0;
      if (fa !== fb) return fa - fb;
      if (a.f.hosts.length !== b.f.hosts.length) return b.f.hosts.length - a.f.hosts.length;
      if (a.f.label !== b.f.label) return LABEL_ORDER[a.f.label] - LABEL_ORDER[b.f.label];
      return a.i - b.i;
    })
    .map((x) => x.f);
}
