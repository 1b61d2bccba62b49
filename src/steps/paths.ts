/** Path templates of put and fetch, rendered per host at run time. */
import { resolve } from 'node:path';
import { HostError } from '../errors.js';
import { renderTemplate, type TemplateEnv } from '../lang/templates.js';
import type { Json } from '../model/playbook.js';
import { checkHostFilledPath } from './fetch-dest.js';
import type { PerformContext } from './types.js';

export function templateEnv(ctx: PerformContext): TemplateEnv {
  return {
    host: ctx.host,
    vars: ctx.vars,
    hostvars: ctx.hostVars,
    results: ctx.results,
    ...(ctx.item !== undefined ? { item: ctx.item } : {}),
    ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
  };
}

export function renderPath(template: string, ctx: PerformContext, key: string): string {
  const r = renderTemplate(template, templateEnv(ctx));
  if (!r.ok) throw new HostError('failed', `${ctx.host}: ${r.message} (in ${key})`);
  if (typeof r.value === 'string') return r.value;
  if (typeof r.value === 'number') return String(r.value);
  throw new HostError('failed', `${ctx.host}: ${key} must be a path, but the template gave ${preview(r.value)}`);
}

/**
 * A local source path (put, template, sync), absolute: a value from the host may only name a
 * file inside the folder the template fixes before it (./fetch-dest.ts).
 */
export function renderLocalSource(template: string, ctx: PerformContext, key: string): string {
  const abs = resolve(ctx.baseDir, renderPath(template, ctx, key));
  checkHostFilledPath(key, template, abs, templateEnv(ctx), ctx.baseDir, ctx.host);
  return abs;
}

export function modeString(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** A short JSON rendering of a value for messages. */
export function preview(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
