/**
 * `put: LOCAL` with `to`, `mode`: stream a local file to every target; sha1 checked on the host,
 * temp file + rename, an identical file left alone (docs/language.md#put).
 */
import { resolve as resolvePath } from 'node:path';
import type { Json, Located } from '../model/playbook.js';
import { fillVarsOnly, fillVarsText } from './fill-vars.js';
import { modeString, renderPath } from './paths.js';
import type { PlanStepBase, StepCommon, StepKindDef } from './types.js';

export interface PutStep extends StepCommon {
  kind: 'put';
  /** Local path template, relative to the playbook's folder. */
  src: Located<string>;
  /** Remote path template; ends with `/` for a folder; undefined for a fresh temp path. */
  to?: Located<string>;
  mode: number;
}

export interface PlanPut extends PlanStepBase {
  kind: 'put';
  /** Local path template, resolved against the playbook folder when it has no placeholder. */
  src: string;
  to?: string;
  mode: number;
  /** Filled by the plan command's edge (it reads the file), not by the pure compiler. */
  local?: { path: string; size: number; sha1sum: string } | { path: string; error: string };
}

export const putKind: StepKindDef<PutStep, PlanPut> = {
  kind: 'put',
  schema: {
    key: { type: 'string', minLength: 1, description: 'Local file (template), relative to the playbook, streamed to every target.' },
    props: {
      to: {
        type: 'string',
        minLength: 1,
        description: 'Remote path; ending in / means a folder (the file keeps its name); absent means a fresh temporary path.',
      },
      mode: { type: 'string', pattern: '^0?[0-7]{3,4}$', description: 'File mode as a QUOTED octal string ("0644" by default).' },
    },
    required: [],
  },
  build(raw, common, ctx) {
    const src = ctx.loc('put');
    if (!src) return undefined;
    const to = ctx.loc('to');
    const mode = typeof raw.mode === 'string' && /^0?[0-7]{3,4}$/.test(raw.mode) ? parseInt(raw.mode, 8) : 0o644;
    return { ...common, kind: 'put', src, ...(to ? { to } : {}), mode };
  },
  check(step, ctx) {
    ctx.checkTemplate(step.src.value, ['put']);
    if (step.to) ctx.checkTemplate(step.to.value, ['to']);
  },
  compile(step, base) {
    return { ...base, kind: 'put', src: step.src.value, ...(step.to ? { to: step.to.value } : {}), mode: step.mode };
  },
  describe(s, vars) {
    const to = s.to === undefined ? '(temporary path)' : fillVarsText(s.to, vars);
    const lines: Array<[string, string]> = [['put', `${fillVarsText(s.src, vars)} → ${to}, mode ${modeString(s.mode)}`]];
    if (s.local) {
      lines.push(['local', 'error' in s.local ? `${s.local.path}: ${s.local.error}` : `${s.local.path}, ${s.local.size} bytes, sha1 ${s.local.sha1sum}`]);
    }
    return lines;
  },
  data(s, vars) {
    let local: Json = null;
    if (s.local) {
      local = 'error' in s.local ? { path: s.local.path, error: s.local.error } : { path: s.local.path, size: s.local.size, sha1sum: s.local.sha1sum };
    }
    return { src: s.src, src_filled: fillVarsOnly(s.src, vars), to: s.to ?? null, mode: modeString(s.mode), local };
  },
  async perform(step, ctx, signal) {
    const local = resolvePath(ctx.baseDir, renderPath(step.src, ctx, 'put'));
    const to = step.to === undefined ? undefined : renderPath(step.to, ctx, 'to');
    const session = await ctx.session();
    const opts = { become: step.policy.become, signal, timeoutMs: step.policy.timeout_ms, onProgress: ctx.onProgress };
    const v = ctx.check ? await session.putCheck(local, to, step.mode, opts) : await session.put(local, to, step.mode, opts);
    return { value: { ...v }, changed: v.changed };
  },
};
