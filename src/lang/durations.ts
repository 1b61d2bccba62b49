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

/**
 * The longest duration: Node's timers hold a signed 32-bit count of milliseconds, and a longer
 * delay fires at once (a 25-day timeout would time out every host immediately).
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: 'format' | 'too_long' };

export function checkDuration(input: string | number): DurationResult {
  let ms: number;
  if (typeof input === 'number') {
    if (Number.isNaN(input) || input < 0) return { ok: false, reason: 'format' };
    ms = input * 1000;
  } else {
    const text = input.trim();
    if (BARE.test(text)) ms = Number(text) * 1000;
    else if (WHOLE.test(text)) {
      ms = 0;
      for (const m of text.matchAll(PAIR)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    } else return { ok: false, reason: 'format' };
  }
  const r = Math.round(ms);
  return r > MAX_DURATION_MS ? { ok: false, reason: 'too_long' } : { ok: true, ms: r };
}

/** Milliseconds, or undefined for text that is not a duration or one longer than MAX_DURATION_MS. */
export function parseDuration(input: string | number): number | undefined {
  const r = checkDuration(input);
  return r.ok ? r.ms : undefined;
}

/** `90500` → `1m30.5s`; for messages and plan output. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  kB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
};

/** `1048576`, `"512KiB"`, `"4 MiB"`, `"2MB"` → bytes; anything else → undefined. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = /^([0-9]+) ?(B|KiB|MiB|GiB|kB|MB|GB)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]) * SIZE_UNITS[m[2] ?? '']!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
