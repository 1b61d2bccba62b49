/**
 * An expression given on the command line (`--limit`, `exec`, `hosts EXPR`): it may name hosts
 * and static groups only, since nothing has run yet; `hosts`, which shows what an expression
 * could hold, also takes filter groups and outcome sets of known registers (`during`). Problems
 * are placed in the pseudo-file named after the flag, column = offset + 1.
 */
import type { PlaybookProblem } from '../../errors.js';
import type { GroupExpr } from '../../lang/group-expr.js';
import { namesIn, outcomesIn, parseGroupExpr, suggestName } from '../../lang/groups.js';

export function checkCommandLineExpr(
  flag: string,
  text: string,
  playbook: { hosts: ReadonlyArray<{ name: string }>; groups: ReadonlyArray<{ name: string }> },
  problems: PlaybookProblem[],
  /** What the run decides: filter groups (named in a message, or allowed with `allow`) and registers. */
  during: { filterGroups: readonly string[]; registers: readonly string[]; allow?: boolean } = { filterGroups: [], registers: [] },
): GroupExpr | undefined {
  const pos = (offset: number) => ({ file: flag, line: 1, col: offset + 1 });
  const r = parseGroupExpr(text);
  if (!r.ok) {
    problems.push({ code: 'group_expr', message: `${flag} '${text}': ${r.message}`, pos: pos(r.offset) });
    return undefined;
  }
  const known = ['all', ...playbook.hosts.map((h) => h.name), ...playbook.groups.map((g) => g.name)];
  const knownSet = new Set(known);
  let ok = true;
  for (const n of namesIn(r.expr)) {
    if (knownSet.has(n.name) || (during.allow && during.filterGroups.includes(n.name))) continue;
    ok = false;
    if (during.filterGroups.includes(n.name)) {
      problems.push({
        code: 'group_expr',
        message: `${flag}: group '${n.name}' is made by a filter step during the run; ${flag} takes hosts and groups known before it`,
        pos: pos(n.pos),
      });
      continue;
    }
    const hint = suggestName(n.name, [...known, ...(during.allow ? during.filterGroups : [])]);
    problems.push({
      code: 'unknown_name',
      message: `${flag}: unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`,
      pos: pos(n.pos),
    });
  }
  for (const o of outcomesIn(r.expr)) {
    if (during.allow && during.registers.includes(o.register)) continue;
    ok = false;
    problems.push({
      code: 'group_expr',
      message: during.allow
        ? `${flag}: ${o.outcome}(${o.register}): no step has register: ${o.register}`
        : `${flag}: ${o.outcome}(${o.register}) is decided during the run; ${flag} takes hosts and groups known before it`,
      pos: pos(o.pos),
    });
  }
  return ok ? r.expr : undefined;
}
