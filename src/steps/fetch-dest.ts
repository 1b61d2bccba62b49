/**
 * Which controller files a host's output may name (docs/security.md#local-paths-a-host-fills):
 * a local path template (fetch's `to`; the source of put, template and sync) fixes a folder up
 * to its first placeholder that a host controls ({results...}); the rendered path must stay
 * inside it. A fetch also writes through no symlinked folder below the playbook's literal
 * prefix. So a host's output can never name a file elsewhere on the controller.
 */
import { lstatSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { HostError } from '../errors.js';
import { parseTemplate, renderTemplate, type TemplateEnv, type TemplatePart } from '../lang/templates.js';

const hostControlled = (p: TemplatePart): boolean => p.type === 'ref' && p.path[0] === 'results';

/** A `..` segment after the first placeholder would leave the folder the template fixes. */
export function dotDotAfterPlaceholder(template: string): boolean {
  const r = parseTemplate(template);
  if (!r.ok) return false;
  const first = r.parts.findIndex((p) => p.type === 'ref');
  if (first < 0) return false;
  const rest = r.parts
    .slice(first + 1)
    .map((p) => (p.type === 'text' ? p.text : 'x'))
    .join('');
  return rest.split(/[\\/]/).includes('..');
}

/** Template text of the parts before the first part matching `stop`, braces escaped again. */
function prefixOf(parts: TemplatePart[], stop: (p: TemplatePart) => boolean): { text: string; cut: boolean } {
  const i = parts.findIndex(stop);
  const before = i < 0 ? parts : parts.slice(0, i);
  const text = before.map((p) => (p.type === 'text' ? p.text.replace(/[{}]/g, (b) => b + b) : `{${p.path.join('.')}}`)).join('');
  return { text, cut: i >= 0 };
}

/** The folder part of a rendered prefix: up to its last slash. */
function folderOf(baseDir: string, rendered: string): string {
  const slash = Math.max(rendered.lastIndexOf('/'), rendered.lastIndexOf(sep));
  return resolve(baseDir, slash < 0 ? '.' : rendered.slice(0, slash + 1) || '/');
}

/**
 * Checks the absolute local path `final` rendered from `template` for this host (`what`: the
 * step key, e.g. `put` or `fetch to`); throws a HostError saying why when a host-controlled
 * value leaves the folder the template fixes.
 */
export function checkHostFilledPath(what: string, template: string, final: string, env: TemplateEnv, baseDir: string, host: string): void {
  const r = parseTemplate(template);
  if (!r.ok) return;
  const fixed = prefixOf(r.parts, hostControlled);
  if (!fixed.cut) return;
  const rendered = renderTemplate(fixed.text, env);
  const root = folderOf(baseDir, !rendered.ok ? '' : typeof rendered.value === 'string' ? rendered.value : JSON.stringify(rendered.value));
  const rel = relative(root, final);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new HostError(
      'failed',
      `${host}: ${what} '${template}' gave ${final}, outside ${root}; a value from the host ({results...}) may only name a file inside the folder the template fixes before it`,
    );
  }
}

/**
 * Checks the absolute destination `final` rendered from `template` for this host; throws a
 * HostError saying why when a host-controlled value leaves the fixed folder or a folder on the
 * way is a symlink.
 */
export function checkFetchDestination(template: string, final: string, env: TemplateEnv, baseDir: string, host: string): void {
  checkHostFilledPath('fetch to', template, final, env, baseDir, host);
  const r = parseTemplate(template);
  if (!r.ok) return;
  // Folders the playbook's literal prefix does not name: none may be a symlink.
  const literal = prefixOf(r.parts, (p) => p.type === 'ref');
  const top = folderOf(baseDir, literal.text.replace(/\{\{/g, '{').replace(/\}\}/g, '}'));
  const chain: string[] = [];
  for (let d = dirname(final); d.startsWith(top + sep) || d === top; d = dirname(d)) {
    if (d === top) break;
    chain.unshift(d);
  }
  for (const d of chain) {
    let isLink: boolean;
    try {
      isLink = lstatSync(d).isSymbolicLink();
    } catch {
      return; // not made yet: fetch makes it as a real folder
    }
    if (isLink) {
      throw new HostError(
        'failed',
        `${host}: fetch to ${final}: ${d} is a symlink; fetch does not write through symlinked folders (replace it with a real folder)`,
      );
    }
  }
}
