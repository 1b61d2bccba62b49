/**
 * `fetch: REMOTE` with `to`: stream a file from every target to a local path template that must
 * give each host its own file (docs/language.md#fetch).
 */
import { resolve } from 'node:path';
import { HostError } from '../errors.js';
import { parseTemplate, renderTemplate } from '../lang/templates.js';
import type { Located } from '../model/playbook.js';
import { fillVarsOnly, fillVarsText } from './fill-vars.js';
import { checkFetchDestination, dotDotAfterPlaceholder } from './fetch-dest.js';
import { renderPath, templateEnv } from './paths.js';
import type { CheckContext, PlanStepBase, StepCommon, StepKindDef } from './types.js';

export interface FetchStep extends StepCommon {
  kind: 'fetch';
  /** Remote path template. */
  src: Located<string>;
  /** Local path template (`{host}`), relative to the playbook's folder; undefined for a temp file. */
  to?: Located<string>;
}

export interface PlanFetch extends PlanStepBase {
  kind: 'fetch';
  src: string;
  to?: string;
}

export const fetchKind: StepKindDef<FetchStep, PlanFetch> = {
  kind: 'fetch',
  schema: {
    key: { type: 'string', minLength: 1, description: 'Remote file (template) streamed from every target into `to`.' },
    props: {
      to: {
        type: 'string',
        minLength: 1,
        description:
          'Local path template, relative to the playbook; must contain {host} when there is more than one target. Absent means a temporary file per host.',
      },
    },
    required: [],
  },
  build(_raw, common, ctx) {
    const src = ctx.loc('fetch');
    if (!src) return undefined;
    const to = ctx.loc('to');
    return { ...common, kind: 'fetch', src, ...(to ? { to } : {}) };
  },
  check(step, ctx) {
    ctx.checkTemplate(step.src.value, ['fetch']);
    if (step.to) {
      ctx.checkTemplate(step.to.value, ['to']);
      if (dotDotAfterPlaceholder(step.to.value)) {
        ctx.add(
          'template',
          `fetch to '${step.to.value}': '..' after a placeholder would leave the folder the path names; write the destination without '..'`,
          step.to.pos,
        );
      }
      checkUniquePaths(step.to, ctx);
    }
  },
  compile(step, base) {
    return { ...base, kind: 'fetch', src: step.src.value, ...(step.to ? { to: step.to.value } : {}) };
  },
  describe(s, vars) {
    const to = s.to === undefined ? '(temporary file per host)' : fillVarsText(s.to, vars);
    return [['fetch', `${fillVarsText(s.src, vars)} → ${to}`]];
  },
  data: (s, vars) => ({
    src: s.src,
    src_filled: fillVarsOnly(s.src, vars),
    to: s.to ?? null,
    to_filled: s.to === undefined ? null : fillVarsOnly(s.to, vars),
  }),
  readOnly: () => true,
  async perform(step, ctx, signal) {
    const become = step.policy.become;
    const src = renderPath(step.src, ctx, 'fetch');
    const to = step.to === undefined ? undefined : resolve(ctx.baseDir, renderPath(step.to, ctx, 'to'));
    if (step.to !== undefined && to !== undefined) checkFetchDestination(step.to, to, templateEnv(ctx), ctx.baseDir, ctx.host);
    const session = await ctx.session();
    if (ctx.check) {
      const info = await session.stat(src, { become, signal, withSha1: true, follow: true });
      if (!info.exists) throw new HostError('not_found', `${ctx.host}: ${src} does not exist`);
      if (info.type !== 'file') {
        throw new HostError('failed', `${ctx.host}: ${src} is a ${info.type ?? 'special file'}, not a file; fetch copies one file`);
      }
      return { value: { remote_path: src, size: info.size, sha1sum: info.sha1sum }, changed: false };
    }
    const v = await session.fetch(src, to, { become, signal, onProgress: ctx.onProgress });
    // Fetch changes the controller, not the host.
    return { value: { ...v }, changed: false };
  },
};

/**
 * With more than one target, a fetch's `to` must give every host its own local path (Chopsticks
 * raises otherwise). Checked by rendering the template for each possible target and comparing
 * normalised absolute paths, so `logs/{host}/../app.log` is caught too.
 */
function checkUniquePaths(to: Located<string>, ctx: CheckContext): void {
  const targets = ctx.targets.upper;
  if (targets.length < 2) return;
  const parsed = parseTemplate(to.value);
  if (!parsed.ok) return; // reported as a template problem
  const hasHost = parsed.parts.some((p) => p.type === 'ref' && p.path[0] === 'host');
  const byPath = new Map<string, string>();
  for (const h of targets) {
    const r = renderTemplate(to.value, { host: h, vars: ctx.vars, hostvars: ctx.hostVars(h) });
    if (!r.ok || (typeof r.value !== 'string' && typeof r.value !== 'number')) {
      // Depends on run-time values ({results.X}): only {host} itself guarantees uniqueness.
      if (!hasHost) {
        ctx.add(
          'fetch_collision',
          `fetch to '${to.value}' must contain {host} when the step has more than one target (${targets.length} possible); e.g. logs/{host}/file`,
          to.pos,
        );
      }
      return;
    }
    const abs = resolve(ctx.baseDir, String(r.value));
    const other = byPath.get(abs);
    if (other !== undefined) {
      ctx.add(
        'fetch_collision',
        `fetch to '${to.value}' gives hosts ${other} and ${h} the same local path ${abs}; put {host} in a folder or file name, e.g. logs/{host}/file`,
        to.pos,
      );
      return;
    }
    byPath.set(abs, h);
  }
}
