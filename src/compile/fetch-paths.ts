/**
 * SPEC §4: with more than one target, a fetch's `to` must give every host its own local path
 * (Chopsticks raises otherwise). Checked by rendering the template for each possible target and
 * comparing normalised absolute paths, so `logs/{host}/../app.log` is caught too.
 */
import { resolve } from 'node:path';
import type { PlaybookProblem } from '../errors.js';
import { parseTemplate, renderTemplate } from '../lang/templates.js';
import type { Playbook } from '../model/playbook.js';
import type { PlanStep } from './plan-types.js';

export function checkFetchPaths(playbook: Playbook, steps: PlanStep[]): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  const hosts = new Map(playbook.hosts.map((h) => [h.name, h]));
  for (const step of playbook.steps) {
    if (step.kind !== 'fetch' || !step.to) continue;
    const targets = steps[step.index]?.targets.upper ?? [];
    if (targets.length < 2) continue;
    const to = step.to;
    const parsed = parseTemplate(to.value);
    if (!parsed.ok) continue; // reported as a template problem
    const hasHost = parsed.parts.some((p) => p.type === 'ref' && p.path[0] === 'host');
    const byPath = new Map<string, string>();
    for (const h of targets) {
      const r = renderTemplate(to.value, { host: h, vars: playbook.vars, hostvars: hosts.get(h)?.vars ?? {} });
      if (!r.ok || (typeof r.value !== 'string' && typeof r.value !== 'number')) {
        // Depends on run-time values ({results.X}): only {host} itself guarantees uniqueness.
        if (!hasHost) {
          problems.push({
            code: 'fetch_collision',
            message: `fetch to '${to.value}' must contain {host} when the step has more than one target (${targets.length} possible); e.g. logs/{host}/file`,
            pos: to.pos,
          });
        }
        break;
      }
      const abs = resolve(playbook.baseDir, String(r.value));
      const other = byPath.get(abs);
      if (other !== undefined) {
        problems.push({
          code: 'fetch_collision',
          message: `fetch to '${to.value}' gives hosts ${other} and ${h} the same local path ${abs}; put {host} in a folder or file name, e.g. logs/{host}/file`,
          pos: to.pos,
        });
        break;
      }
      byPath.set(abs, h);
    }
  }
  return problems;
}
