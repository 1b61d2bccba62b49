/**
 * Secrets (docs/language.md#secrets): read once when a run starts, and masked in everything a
 * reporter sees. `maskEvent` is applied at the one place every RunEvent passes (api.ts runPlan),
 * so terminal, plain, JSON report, events file and JUnit all get `***` instead of a value.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Json, SecretSource } from '../model/playbook.js';
import type { RunEvent } from './events.js';
import { mapStrings } from '../lang/json-map.js';

export class SecretReadError extends Error {
  override name = 'SecretReadError';
}

/** Values by name; a secret that cannot be read stops the run before any host is contacted. */
export async function readSecrets(sources: Record<string, SecretSource>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, s] of Object.entries(sources)) {
    let value: string;
    if ('env' in s) {
      const v = process.env[s.env];
      if (v === undefined) throw new SecretReadError(`secret '${name}': environment variable ${s.env} is not set`);
      value = v;
    } else if ('file' in s) {
      try {
        value = (await readFile(s.file, 'utf8')).replace(/\r?\n$/, '');
      } catch (e) {
        throw new SecretReadError(`secret '${name}': cannot read ${s.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } else {
      value = await new Promise<string>((resolve, reject) => {
        execFile(s.command[0]!, s.command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 60_000 }, (err, stdout) => {
          // Its stderr is not echoed: a failing secret helper may print what it was given.
          if (err) reject(new SecretReadError(`secret '${name}': command ${s.command[0]} failed (${err.code ?? err.signal ?? 'error'})`));
          else resolve(stdout.replace(/\r?\n$/, ''));
        });
      });
    }
    out[name] = value;
  }
  return out;
}

/**
 * Replaces every occurrence of any value with `***` in strings, keys included, recursively. A
 * number or boolean whose text holds a value (a host printing a numeric secret as JSON) becomes
 * the string `***` too.
 */
export function makeMasker(values: readonly string[]): <T>(v: T) => T {
  // Longest first, so a value containing another is masked whole; empty values mask nothing.
  const list = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (v) => v;
  const maskString = (s: string): string => {
    let out = s;
    for (const v of list) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  };
  const maskScalar = (x: number | boolean): unknown => (maskString(String(x)) === String(x) ? x : '***');
  const holdsSecret = (t: string) => maskString(t) !== t;
  // Diffs sit in a step's value, or in each item's value of a loop.
  const maskDiffs = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(maskDiffs);
    const diff = v !== null && typeof v === 'object' ? (v as { diff?: unknown }).diff : undefined;
    return typeof diff === 'string' && holdsSecret(diff) ? { ...(v as object), diff: maskReplacedLines(diff, holdsSecret) } : v;
  };
  return <T>(v: T) => mapStrings(maskDiffs(v) as T, maskString, maskScalar);
}

/**
 * A diff that shows a secret's value beside a removed line may show the value it replaced (a
 * rotated password), which no mask holds: in each change (a run of removed and added lines)
 * that adds a line holding a secret, every removed line becomes `-***`. The secret itself is
 * masked afterwards like any text.
 */
function maskReplacedLines(diff: string, holdsSecret: (text: string) => boolean): string {
  const lines = diff.split('\n');
  const isChange = (l: string | undefined) => l !== undefined && /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l);
  for (let i = 0; i < lines.length;) {
    if (!isChange(lines[i])) {
      i++;
      continue;
    }
    let end = i;
    while (isChange(lines[end])) end++;
    if (lines.slice(i, end).some((l) => l.startsWith('+') && holdsSecret(l)))
      for (let k = i; k < end; k++) if (lines[k]!.startsWith('-')) lines[k] = '-***';
    i = end;
  }
  return lines.join('\n');
}

export function maskEvent(ev: RunEvent, mask: <T>(v: T) => T): RunEvent {
  // Only what can carry a value: results, messages and host output. Event kinds, host and step
  // names stay as they are (a short secret must not break the event stream), and the plan holds
  // templates and secret sources, never values.
  switch (ev.type) {
    case 'host_result':
      return {
        ...ev,
        result: ev.result.ok ? { ...ev.result, value: mask(ev.result.value) } : { ...ev.result, error: mask(ev.result.error) },
      };
    case 'host_stderr':
      return { ...ev, text: mask(ev.text) };
    case 'warning':
      return { ...ev, message: mask(ev.message) };
    default:
      return ev;
  }
}

export type { Json };
