/**
 * `template: LOCAL` with `to`, `mode`: render a local file per host ON THE CONTROLLER with a
 * Jinja-style engine (LiquidJS, docs/decisions.md), then follow every `put` rule: streamed, sha1
 * checked on the host, temp file + rename, an identical file left alone, check mode, diff
 * (docs/language.md#template).
 *
 * The engine sees `host`, `vars`, `hostvars`, `results`, `secrets` (when the run has them) and
 * `item` (in a loop). It reads own properties only (no prototypes, no JS globals), and
 * `{% include %}` / `{% render %}` resolve inside the template's own folder only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve as resolvePath } from 'node:path';
import { createRequire } from 'node:module';
import type { Liquid } from 'liquidjs';
import { HostError } from '../errors.js';
import { isTemplate } from '../lang/templates.js';
import type { Json, Located } from '../model/playbook.js';
import { modeDiff, remoteFile, unifiedDiff } from './diff.js';
import { fillVarsOnly } from './fill-vars.js';
import { modeString, renderLocalSource, renderPath } from './paths.js';
import type { PlanStepBase, StepCommon, StepKindDef } from './types.js';

export interface TemplateStep extends StepCommon {
  kind: 'template';
  /** Local template path (a path template), relative to the playbook's folder. */
  src: Located<string>;
  /** Remote path template; ending with `/` means a folder (the file keeps the template's name less .j2/.liquid). */
  to: Located<string>;
  mode: number;
}

export interface PlanTemplate extends PlanStepBase {
  kind: 'template';
  src: string;
  to: string;
  mode: number;
}

/** One engine per template folder: includes resolve there and nowhere else. */
export function templateEngine(folder: string): Liquid {
  // Loaded on first use, not at start-up (it is the largest module of a run).
  const { Liquid: Engine } = createRequire(import.meta.url)('liquidjs') as typeof import('liquidjs');
  return new Engine({
    root: [folder],
    partials: [folder],
    layouts: [folder],
    relativeReference: true,
    extname: '',
    cache: false,
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ownPropertyOnly: true,
  });
}

/** A remote name for `to: DIR/`: the template's name without its template extension. */
function outputName(local: string): string {
  return basename(local).replace(/\.(j2|jinja2?|liquid|tmpl|tpl)$/, '');
}

export const templateKind: StepKindDef<TemplateStep, PlanTemplate> = {
  kind: 'template',
  loops: true,
  schema: {
    key: {
      type: 'string',
      minLength: 1,
      description: 'Local template file (Liquid/Jinja-style: {{ vars.x }}, {% if %}, {% for %}), rendered per host on the controller.',
    },
    props: {
      to: {
        type: 'string',
        minLength: 1,
        description: "Remote path; ending in / means a folder (the file keeps the template's name less .j2/.liquid).",
      },
      mode: { type: 'string', pattern: '^0?[0-7]{3,4}$', description: 'File mode as a QUOTED octal string ("0644" by default).' },
    },
    required: ['to'],
  },
  build(raw, common, ctx) {
    const src = ctx.loc('template');
    const to = ctx.loc('to');
    if (!src || !to) return undefined;
    const mode = typeof raw.mode === 'string' && /^0?[0-7]{3,4}$/.test(raw.mode) ? parseInt(raw.mode, 8) : 0o644;
    return { ...common, kind: 'template', src, to, mode };
  },
  check(step, ctx) {
    ctx.checkTemplate(step.src.value, ['template']);
    ctx.checkTemplate(step.to.value, ['to']);
    // A path known before the run is checked now: it exists, is a file, and parses.
    const filled = fillVarsOnly(step.src.value, ctx.vars);
    if (typeof filled !== 'string' || isTemplate(filled.replace(/\{\{|\}\}/g, ''))) return;
    const local = resolvePath(ctx.baseDir, filled);
    const what = ctx.localPath(local);
    if (what === 'missing') {
      ctx.add('file_not_found', `template: ${filled} does not exist (looked for ${local})`, step.src.pos);
      return;
    }
    if (what === 'folder') {
      ctx.add('file_not_found', `template: ${filled} is a folder; use sync: to copy a folder`, step.src.pos);
      return;
    }
    if (what !== 'file') return;
    try {
      const text = readFileSync(local, 'utf8');
      ctx.mentions(text);
      templateEngine(dirname(local)).parse(text, relative(ctx.baseDir, local) || local);
    } catch (e) {
      ctx.add('template', `template: ${filled}: ${e instanceof Error ? e.message : String(e)}`, step.src.pos);
    }
  },
  compile(step, base) {
    return { ...base, kind: 'template', src: step.src.value, to: step.to.value, mode: step.mode };
  },
  describe(s, vars) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- plan display keeps String() of the filled value, as before
    return [['template', `${String(fillVarsOnly(s.src, vars))} → ${String(fillVarsOnly(s.to, vars))}, mode ${modeString(s.mode)}`]];
  },
  data(s, vars) {
    return { src: s.src, src_filled: fillVarsOnly(s.src, vars), to: s.to, to_filled: fillVarsOnly(s.to, vars), mode: modeString(s.mode) };
  },
  readOnly: () => false,
  async perform(step, ctx, signal) {
    const local = renderLocalSource(step.src, ctx, 'template');
    const to = renderPath(step.to, ctx, 'to');
    const shown = relative(ctx.baseDir, local) || local;
    let text: string;
    try {
      text = await readFile(local, 'utf8');
    } catch (e) {
      throw new HostError('not_found', `${ctx.host}: template ${shown}: cannot read it: ${(e as Error).message}`);
    }
    const data: Record<string, Json | undefined> = {
      host: ctx.host,
      vars: ctx.vars,
      hostvars: ctx.hostVars,
      results: ctx.results,
      secrets: ctx.secrets ?? {},
      ...(ctx.item !== undefined ? { item: ctx.item } : {}),
    };
    let rendered: string;
    try {
      const engine = templateEngine(dirname(local));
      rendered = (await engine.render(engine.parse(text, shown), data)) as string;
    } catch (e) {
      throw new HostError('failed', `${ctx.host}: template ${shown}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // A private folder (0700) and file (0600): the rendered text may hold secrets.
    return ctx.privateTempDir('chopsticks-template-', async (dir) => {
      const file = join(dir, outputName(local));
      await writeFile(file, rendered, { mode: 0o600 });
      const session = await ctx.session();
      // Messages name the template, not the private temp file it was rendered into.
      const opts = { become: step.policy.become, signal, onProgress: ctx.onProgress, what: `template ${shown} → ${to}` };
      const before = ctx.diff
        ? await remoteFile(session, to.endsWith('/') ? to + outputName(local) : to, { become: step.policy.become, signal })
        : undefined;
      const v = ctx.check ? await session.putCheck(file, to, step.mode, opts) : await session.put(file, to, step.mode, opts);
      const value: Record<string, Json> = { ...v };
      if (before !== undefined)
        value.diff = unifiedDiff(v.remote_path, before.content, rendered) + modeDiff(v.remote_path, before.mode, step.mode);
      return { value, changed: v.changed };
    });
  },
};
