/**
 * For plan output: fill the placeholders that are playbook vars, so `plan` shows
 * `dist/app-2.4.1.tar.gz` rather than `dist/app-{vars.release}.tar.gz`. Anything that depends on
 * the host or on results stays as written: it is decided at run time.
 */
import { parseTemplate, renderTemplate } from '../lang/templates.js';
import type { Json } from '../model/playbook.js';

export function fillVarsOnly(text: string, vars: Record<string, Json>): Json {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return text;
  const refs = parsed.parts.filter((p) => p.type === 'ref');
  if (refs.length === 0) return text;
  if (refs.every((p) => p.path[0] === 'vars')) {
    // Only vars: render for real, so a lone placeholder keeps its JSON type.
    const r = renderTemplate(text, { vars });
    return r.ok ? r.value : text;
  }
  // Mixed: fill the vars, keep host and result placeholders as written.
  return parsed.parts
    .map((p) => {
      if (p.type === 'text') return p.text.replace(/[{}]/g, (b) => b + b);
      const ref = `{${p.path.join('.')}}`;
      if (p.path[0] !== 'vars') return ref;
      const r = renderTemplate(ref, { vars });
      if (!r.ok) return ref;
      const s = typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
      return s.replace(/[{}]/g, (b) => b + b);
    })
    .join('');
}

/** fillVarsOnly for a line of plan text: a value that is not a string shows as its JSON. */
export function fillVarsText(text: string, vars: Record<string, Json>): string {
  const v = fillVarsOnly(text, vars);
  return typeof v === 'string' ? v : JSON.stringify(v);
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
