/**
 * `put: LOCAL` with `to`, `mode`: stream a local file to every target; sha1 checked on the host,
 * temp file + rename, an identical file left alone (docs/language.md#put).
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { HostSession } from '../transports/session.js';
import { DIFF_LIMIT, modeDiff, remoteContent, unifiedDiff } from './diff.js';
import type { Json, Located } from '../model/playbook.js';
import { fillVarsOnly, fillVarsText } from './fill-vars.js';
import { modeString, renderLocalSource, renderPath } from './paths.js';
import type { CheckContext, PlanStepBase, StepCommon, StepKindDef } from './types.js';
import { parseTemplate, renderTemplate } from '../lang/templates.js';

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
  loops: true,
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
    // Hosts it surely runs on: `when` or run_once may keep it from some of them.
    checkSource(step.src, ctx, step.when !== undefined || step.run_once ? [] : ctx.targets.lower);
  },
  compile(step, base) {
    return { ...base, kind: 'put', src: step.src.value, ...(step.to ? { to: step.to.value } : {}), mode: step.mode };
  },
  describe(s, vars) {
    const to = s.to === undefined ? '(temporary path)' : fillVarsText(s.to, vars);
    const lines: Array<[string, string]> = [['put', `${fillVarsText(s.src, vars)} → ${to}, mode ${modeString(s.mode)}`]];
    if (s.local) {
      lines.push([
        'local',
        'error' in s.local ? `${s.local.path}: ${s.local.error}` : `${s.local.path}, ${s.local.size} bytes, sha1 ${s.local.sha1sum}`,
      ]);
    }
    return lines;
  },
  data(s, vars) {
    let local: Json = null;
    if (s.local) {
      local =
        'error' in s.local
          ? { path: s.local.path, error: s.local.error }
          : { path: s.local.path, size: s.local.size, sha1sum: s.local.sha1sum };
    }
    return { src: s.src, src_filled: fillVarsOnly(s.src, vars), to: s.to ?? null, mode: modeString(s.mode), local };
  },
  readOnly: () => false,
  async perform(step, ctx, signal) {
    const local = renderLocalSource(step.src, ctx, 'put');
    const to = step.to === undefined ? undefined : renderPath(step.to, ctx, 'to');
    const session = await ctx.session();
    const opts = { become: step.policy.become, signal, onProgress: ctx.onProgress };
    // --diff reads the host's file before it is replaced; only a file that will change has a diff.
    const diff = ctx.diff && to !== undefined ? await diffBefore(session, local, to, step, signal) : undefined;
    const v = ctx.check ? await session.putCheck(local, to, step.mode, opts) : await session.put(local, to, step.mode, opts);
    return { value: { ...v, ...(diff !== undefined && v.changed ? { diff } : {}) }, changed: v.changed };
  },
};

/**
 * A source whose path is known before the run must be a file: found by `validate`, not halfway
 * through a rollout. Known means filled by vars, or by `{host}` and `{hostvars...}` for each host
 * the step surely runs on (`sure`); one that depends on results or a loop item, or that an
 * earlier step on a `local` host may make, is checked when the step runs.
 */
function checkSource(src: Located<string>, ctx: CheckContext, sure: readonly string[]): void {
  if (src.value === '') return; // the schema says it must not be empty
  const parsed = parseTemplate(src.value);
  if (!parsed.ok) return;
  const roots = new Set(parsed.parts.flatMap((p) => (p.type === 'ref' ? [p.path[0]] : [])));
  if ([...roots].some((r) => r !== 'vars' && r !== 'host' && r !== 'hostvars')) return;
  const perHost = roots.has('host') || roots.has('hostvars');
  // Each distinct path once, with the first host that reads it.
  const paths = new Map<string, string | undefined>();
  for (const host of perHost ? sure : [undefined]) {
    const data = host === undefined ? { vars: ctx.vars } : { vars: ctx.vars, host, hostvars: ctx.hostVars(host) };
    const filled = renderTemplate(src.value, data);
    if (!filled.ok || typeof filled.value !== 'string') return; // a template problem, reported as such
    if (!paths.has(filled.value)) paths.set(filled.value, host);
  }
  const bad = [...paths].flatMap(([path, host]) => {
    const abs = resolvePath(ctx.baseDir, path);
    const kind = ctx.localPath(abs);
    // A file an earlier step on the controller makes (a build) does not exist yet: checked when the step runs.
    return kind === 'file' || (kind === 'missing' && ctx.localStepBefore) ? [] : [{ path, abs, kind, host }];
  });
  const first = bad[0];
  if (!first) return;
  // A fleet of hosts without their files is one mistake: the first, and how many more.
  const more = bad.length > 1 ? `, and ${bad.length - 1} more host${bad.length > 2 ? 's' : ''}` : '';
  const forHost = first.host === undefined ? '' : ` (for host ${first.host}${more})`;
  const what =
    first.kind === 'missing'
      ? `local file ${first.path} (${first.abs}) does not exist${forHost}; paths are relative to the playbook's folder`
      : first.kind === 'folder'
        ? `${first.path} (${first.abs}) is a folder${forHost}; put copies one file: use sync for a folder`
        : `${first.path} (${first.abs}) is not a regular file (a device, socket or broken link)${forHost}; put copies one file`;
  ctx.add('file_not_found', `put: ${what}`, src.pos);
}

/**
 * The diff from the host's file to the local one, read before the put replaces it; undefined
 * when nothing would change; a mode change is a line of its own. The host's file
 * is read only when it is small enough to diff.
 */
async function diffBefore(
  session: HostSession,
  local: string,
  to: string,
  step: PlanPut,
  signal: AbortSignal,
): Promise<string | undefined> {
  const become = step.policy.become;
  const probe = await session.putCheck(local, to, step.mode, { become, signal });
  if (!probe.changed) return undefined;
  const path = probe.remote_path;
  const info = await session.stat(path, { become, signal, withSha1: false, follow: true });
  if (info.exists && info.type !== 'file') return `${path}: the host has a ${info.type ?? 'special file'} there, not a file\n`;
  const before = await remoteContent(session, path, { become, signal });
  const after = probe.size > DIFF_LIMIT ? { size: probe.size, sha1sum: probe.sha1sum } : await readFile(local);
  return unifiedDiff(path, before, after) + modeDiff(path, info.mode, step.mode) || undefined;
}
