/**
 * AST of group expressions (docs/language.md#groups-and-set-algebra). Parsing and evaluation live in groups.ts.
 * `pos` is the offset of the node in the expression text (0-based), so a problem can be
 * placed at the right column of the YAML scalar.
 */
export type Outcome = 'ok' | 'failed' | 'changed' | 'unreachable';
export type SetOp = '+' | '-' | '&' | '^' | '|';

export type GroupExpr =
  | { type: 'name'; name: string; pos: number }
  | { type: 'glob'; pattern: string; pos: number }
  | { type: 'outcome'; outcome: Outcome; register: string; pos: number }
  | { type: 'binary'; op: SetOp; left: GroupExpr; right: GroupExpr; pos: number };

/** What is known before the run about a set of hosts: lower ⊆ actual ⊆ upper (both in definition order). */
export interface HostBounds {
  lower: string[];
  upper: string[];
}
