/** Load, validate and compile: the checks `run`, `plan`, `validate` and `hosts` all start with. */
import type { PlaybookProblem } from '../errors.js';
import type { Plan } from '../compile/plan-types.js';
import { loadPlaybook } from '../validate/index.js';
import { compile } from '../compile/index.js';

export async function loadAndCompile(opts: {
  playbook: string;
  inventory: string[];
  vars: Record<string, string>;
  limit?: string;
}): Promise<{ plan?: Plan; problems: PlaybookProblem[] }> {
  const { playbook, problems } = await loadPlaybook(opts.playbook, { inventory: opts.inventory, vars: opts.vars });
  if (!playbook || problems.length) return { problems };
  return compile(playbook, { limit: opts.limit });
}
