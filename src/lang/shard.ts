/**
 * `--shard I/N` (docs/ci.md): N controllers split one fleet with no coordinator. A host belongs to
 * shard `fnv1a32(utf8(name)) mod N`, so the assignment depends on the name alone: adding or
 * removing other hosts never moves a host between shards, and every job of a CI matrix or a
 * Kubernetes Indexed Job computes the same split.
 */

export interface Shard {
  /** 0 ≤ index < count */
  index: number;
  count: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

export function shardOfHost(name: string, count: number): number {
  return fnv1a32(name) % count;
}

/** The hosts of `shard`, in the order given (definition order). */
export function hostsInShard(names: readonly string[], shard: Shard): string[] {
  return names.filter((n) => shardOfHost(n, shard.count) === shard.index);
}

/** How the shard is named where a group name is shown (plan output, `on` texts). */
export function shardLabel(shard: Shard): string {
  return `shard(${shard.index}/${shard.count})`;
}

/**
 * Parse `I/N`. Whole numbers only, 0 ≤ I < N; the message says what is wrong and what is
 * expected, for a usage error (exit 5).
 */
export function parseShard(text: string): { ok: true; shard: Shard } | { ok: false; message: string } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return { ok: false, message: `--shard takes I/N (two whole numbers, 0 ≤ I < N, e.g. 0/4), not '${text}'` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count)) return { ok: false, message: `--shard '${text}': numbers too large` };
  if (count < 1) return { ok: false, message: `--shard '${text}': N (the number of shards) must be at least 1` };
  if (index >= count) {
    return {
      ok: false,
      message: `--shard '${text}': I must be less than N (shards are numbered 0 to ${count - 1}); for a CI matrix of ${count} jobs use 0/${count} … ${count - 1}/${count}`,
    };
  }
  return { ok: true, shard: { index, count } };
}
