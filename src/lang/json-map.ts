/**
 * A fresh copy of JSON-shaped data with every string, keys included, passed through `text`, and
 * every number and boolean through `scalar`. Reporters escape host text this way
 * (src/report/safe.ts) and the run masks secrets (src/run/secrets.ts). Keys are defined, not
 * assigned, so a host's `__proto__` key stays an own key and never reaches a prototype.
 */
export function mapStrings<T>(v: T, text: (s: string) => string, scalar: (x: number | boolean) => unknown = (x) => x): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return text(x);
    if (typeof x === 'number' || typeof x === 'boolean') return scalar(x);
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x))
        Object.defineProperty(o, text(k), { value: walk(y), enumerable: true, writable: true, configurable: true });
      return o;
    }
    return x;
  };
  return walk(v) as T;
}
