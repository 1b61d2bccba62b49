/**
 * Durations in playbooks: a number means seconds (`timeout: 60`); a string is one or more
 * number+unit pairs, `500ms`, `60s`, `1m30s`, `2h`, `1d` (a bare numeric string means
 * seconds too). Results are whole milliseconds; anything else is undefined so the caller
 * can report it where it was written.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PAIR = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const BARE = /^\d+(?:\.\d+)?$/;

export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return undefined;
    return checked(input * 1000);
  }
  const text = input.trim();
  if (BARE.test(text)) return checked(Number(text) * 1000);
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(PAIR)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return checked(ms);
}

function checked(ms: number): number | undefined {
  const r = Math.round(ms);
  return Number.isSafeInteger(r) ? r : undefined;
}

/** `90500` → `1m30.5s`; for messages and plan output. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 };

/** `1048576`, `"512KiB"`, `"4 MiB"`, `"2MB"` → bytes; anything else → undefined. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = /^([0-9]+) ?(B|KiB|MiB|GiB|kB|MB|GB)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]) * SIZE_UNITS[m[2] ?? '']!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
