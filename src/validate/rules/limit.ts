/**
 * An expression given on the command line (`--limit`, `hosts EXPR`): it may name hosts and
 * static groups only, since nothing has run yet. Problems are placed in the pseudo-file named
 * after the flag, column = offset + 1.
 */
import type { PlaybookProblem } from '../../errors.js';
import type { GroupExpr } from '../../lang/group-expr.js';
import { namesIn, outcomesIn, parseGroupExpr, suggestName } from '../../lang/groups.js';

export function checkCommandLineExpr(
  flag: string,
  text: string,
  playbook: { hosts: ReadonlyArray<{ name: string }>; groups: ReadonlyArray<{ name: string }> },
  problems: PlaybookProblem[],
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
    if (knownSet.has(n.name)) continue;
    ok = false;
    const hint = suggestName(n.name, known);
    problems.push({
      code: 'unknown_name',
      message: `${flag}: unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`,
      pos: pos(n.pos),
    });
  }
  for (const o of outcomesIn(r.expr)) {
    ok = false;
    problems.push({
      code: 'group_expr',
      message: `${flag}: ${o.outcome}(${o.register}) is decided during the run; limit by hosts and groups`,
      pos: pos(o.pos),
    });
  }
  return ok ? r.expr : undefined;
}
