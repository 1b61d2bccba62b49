/**
 * For plan output: fill templates whose every placeholder is a playbook var, so `plan` shows
 * `dist/app-2.4.1.tar.gz` rather than `dist/app-{vars.release}.tar.gz`. Anything that depends on
 * the host or on results stays as written: it is decided at run time.
 */
import { parseTemplate, renderTemplate } from '../lang/templates.js';
import type { Json } from '../model/playbook.js';

export function fillVarsOnly(text: string, vars: Record<string, Json>): Json {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return text;
  const refs = parsed.parts.filter((p) => p.type === 'ref');
  if (refs.length === 0 || refs.some((p) => p.type === 'ref' && p.path[0] !== 'vars')) return text;
  const r = renderTemplate(text, { vars });
  return r.ok ? r.value : text;
}

export function fillVarsInValue(v: Json, vars: Record<string, Json>): Json {
  if (typeof v === 'string') return fillVarsOnly(v, vars);
  if (Array.isArray(v)) return v.map((x) => fillVarsInValue(x, vars));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fillVarsInValue(x, vars);
    return out;
  }
  return v;
}
