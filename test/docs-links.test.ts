/**
 * References into the project's docs stay true: every `docs/NAME.md#anchor` in a source comment
 * and every relative link in the Markdown files names a file that exists and, with an anchor, a
 * heading of it (GitHub's anchor rules). And the code and docs cite only the project's own docs,
 * not the design notes the project was started from.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
// bench/results/ holds generated measurement reports.
const SKIP = new Set(['node_modules', 'dist', 'coverage', '.git', 'results']);
const SELF = fileURLToPath(import.meta.url);

/** Files still citing the design notes, each to be pointed at the docs by its owner (issue 8). */
const PENDING_CITATIONS: string[] = [];

function walk(dir: string, keep: (p: string) => boolean): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      if (SKIP.has(name)) return [];
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return walk(p, keep);
      return keep(p) ? [p] : [];
    });
}

const rel = (abs: string) => relative(ROOT, abs).split(sep).join('/');
const CODE = ['src', 'test', 'bench'].flatMap((d) => walk(join(ROOT, d), (p) => /\.(ts|mjs|js)$/.test(p) && p !== SELF));
const MARKDOWN = [join(ROOT, 'README.md'), join(ROOT, 'CHANGELOG.md'), ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md'))].concat(
  walk(join(ROOT, 'bench'), (p) => p.endsWith('.md')),
);

/** Heading anchors of a Markdown file, as GitHub makes them (lower case, punctuation dropped, spaces to '-', -1/-2 for repeats). */
function anchorsOf(file: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Why `target` (a path, maybe with #anchor, relative to `base`) is broken, or null. */
function brokenTarget(base: string, target: string): string | null {
  const [path = '', anchor] = target.split('#');
  const file = path === '' ? base : resolve(dirname(base), decodeURIComponent(path));
  if (!existsSync(file)) return `no file ${rel(file)}`;
  if (anchor === undefined || anchor === '') return null;
  if (!file.endsWith('.md')) return null;
  return anchorsOf(file).has(anchor) ? null : `no heading #${anchor} in ${rel(file)}`;
}

describe('docs references', () => {
  it('every docs/NAME.md#anchor named in src/, test/ and bench/ exists', () => {
    const broken: string[] = [];
    for (const file of CODE) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(/\bdocs\/([\w.-]+\.md(?:#[\w-]+)?)/g)) {
          const why = brokenTarget(join(ROOT, 'docs', 'x.md'), m[1]!);
          if (why) broken.push(`${rel(file)}:${i + 1}: ${m[0]}: ${why}`);
        }
      });
    }
    expect(broken).toEqual([]);
  });

  it('every relative link in the Markdown files points at an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of MARKDOWN) {
      let fenced = false;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^(```|~~~)/.test(line)) fenced = !fenced;
          if (fenced) return;
          for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
            const target = m[1]!;
            if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
            const why = brokenTarget(file, target);
            if (why) broken.push(`${rel(file)}:${i + 1}: (${target}): ${why}`);
          }
        });
    }
    expect(broken).toEqual([]);
  });

  it('code and docs cite the project docs, not the design notes (beyond PENDING_CITATIONS)', () => {
    const citing = [...CODE, ...MARKDOWN]
      .filter((f) => /\bSPEC\b|TESTBED|\.\.\/shared\//.test(readFileSync(f, 'utf8')))
      .map(rel)
      .sort();
    expect(citing.filter((f) => !PENDING_CITATIONS.includes(f))).toEqual([]);
    // A file that no longer cites them leaves the list.
    expect(PENDING_CITATIONS.filter((f) => !citing.includes(f))).toEqual([]);
  });
});
