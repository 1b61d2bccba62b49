/**
 * The one I/O edge of `plan`: size and sha1 of each put's local file, streamed so a large
 * release tarball costs no memory. A source that still holds placeholders after filling vars
 * depends on the host and is left without info.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { isTemplate } from '../lang/templates.js';
import { fillVarsOnly } from '../steps/fill-vars.js';

import type { Plan } from '../compile/plan-types.js';

export async function fillPutLocalInfo(plan: Plan): Promise<Plan> {
  for (const step of plan.steps) {
    if (step.kind !== 'put') continue;
    const filled = fillVarsOnly(step.src, plan.vars);
    if (typeof filled !== 'string' || isTemplate(filled)) continue;
    const path = isAbsolute(filled) ? filled : resolve(plan.baseDir, filled);
    try {
      const st = await stat(path);
      if (!st.isFile()) {
        step.local = { path, error: 'not a regular file' };
        continue;
      }
      step.local = { path, size: st.size, sha1sum: await sha1File(path) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      step.local = { path, error: code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message };
    }
  }
  return plan;
}

function sha1File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha1');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}
