/**
 * Compact host lists, as pdsh/clush print them: `web01..web40` → `web[01-40]`.
 * Names are grouped by the text around their LAST run of digits (so `web01.example.com`
 * folds too); groups appear in the order of their first name in the input, numbers
 * within a group ascend. Zero padding is kept: a range only spans numbers whose text is
 * the same width-padded form (`web08,web09,web10` → `web[08-10]`, but `web8,web09` →
 * `web[8,09]`).
 */

interface Numbered {
  text: string;
  value: bigint;
}

const LAST_NUMBER = /^(.*?)(\d+)(\D*)$/;

export function foldHostNames(names: readonly string[]): string {
  const groups = new Map<string, { prefix: string; suffix: string; items: Numbered[]; seen: Set<string> }>();
  const order: Array<{ plain: string } | { key: string }> = [];
  const seenPlain = new Set<string>();
  for (const name of names) {
    const m = LAST_NUMBER.exec(name);
    if (!m) {
      if (!seenPlain.has(name)) {
        seenPlain.add(name);
        order.push({ plain: name });
      }
      continue;
    }
    const [, prefix = '', digits = '', suffix = ''] = m;
    // '\0' cannot occur in host names, so the key is unambiguous.
    const key = `${prefix}\0${suffix}`;
    let g = groups.get(key);
    if (!g) {
      g = { prefix, suffix, items: [], seen: new Set() };
      groups.set(key, g);
      order.push({ key });
    }
    if (!g.seen.has(digits)) {
      g.seen.add(digits);
      g.items.push({ text: digits, value: BigInt(digits) });
    }
  }
  return order
    .map((o) => {
      if ('plain' in o) return o.plain;
      const g = groups.get(o.key)!;
      if (g.items.length === 1) return `${g.prefix}${g.items[0]!.text}${g.suffix}`;
      return `${g.prefix}[${foldNumbers(g.items)}]${g.suffix}`;
    })
    .join(',');
}

function padded(value: bigint, width: number): string {
  return value.toString().padStart(width, '0');
}

function foldNumbers(items: Numbered[]): string {
  const sorted = [...items].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.text.length - b.text.length));
  const ranges: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    // Width only binds when the first number is written with a leading zero.
    const width = first.text.length > 1 && first.text.startsWith('0') ? first.text.length : 0;
    let last = first;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.value === last.value + 1n && sorted[j]!.text === padded(sorted[j]!.value, width)) {
      last = sorted[j]!;
      j++;
    }
    ranges.push(last === first ? first.text : `${first.text}-${last.text}`);
    i = j;
  }
  return ranges.join(',');
}

/** More names than this from one range is refused: a typo such as `web[1-1000000]` would hang validation. */
export const MAX_RANGE_NAMES = 100_000;

export type ExpandResult = { ok: true; names: string[] } | { ok: false; message: string; offset: number };

/** True when a host key is a range (`web[01-40]`) rather than one name. */
export function isHostRange(key: string): boolean {
  return key.includes('[');
}

/**
 * Inverse of foldHostNames: `web[01-03,7].lan` → web01.lan, web02.lan, web03.lan, web7.lan.
 * Several brackets multiply (`rack[1-2]-db[1-4]`: rack1-db1 ... rack2-db4, the last bracket
 * varying fastest). A range `N-M` keeps N's zero padding (`08-10` → 08, 09, 10); it must not
 * go down (`9-1` is an error). A comma list of items may mix ranges and single numbers.
 */
export function expandHostRange(text: string): ExpandResult {
  const pieces: string[][] = [];
  let total = 1;
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('[', i);
    if (open < 0) {
      pieces.push([text.slice(i)]);
      break;
    }
    const close = text.indexOf(']', open);
    if (text.slice(i, open).includes(']')) return { ok: false, message: "']' without '['", offset: text.indexOf(']', i) };
    if (close < 0) return { ok: false, message: "'[' is not closed; write a range such as web[01-40]", offset: open };
    pieces.push([text.slice(i, open)]);
    const body = text.slice(open + 1, close);
    const values: string[] = [];
    let at = open + 1;
    for (const item of body.split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!m) {
        return { ok: false, message: `'${item}' is not a number or a range N-M inside [${body}]`, offset: at };
      }
      const a = m[1]!;
      const b = m[2] ?? a;
      const from = BigInt(a);
      const to = BigInt(b);
      if (to < from) return { ok: false, message: `range ${a}-${b} goes down; write ${b}-${a}`, offset: at };
      const count = to - from + 1n;
      if ((BigInt(values.length) + count) * BigInt(total) > BigInt(MAX_RANGE_NAMES)) {
        return {
          ok: false,
          message: `the range ${text} makes more than ${MAX_RANGE_NAMES} hosts (the limit); split the fleet or narrow the range`,
          offset: at,
        };
      }
      const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
      for (let n = from; n <= to; n++) values.push(padded(n, width));
      at += item.length + 1;
    }
    total *= values.length;
    if (total > MAX_RANGE_NAMES) {
      return {
        ok: false,
        message: `the range ${text} makes more than ${MAX_RANGE_NAMES} hosts (the limit); split the fleet or narrow the range`,
        offset: open,
      };
    }
    pieces.push(values);
    i = close + 1;
  }
  let names = [''];
  for (const p of pieces) {
    if (p.length === 1) names = names.map((n) => n + (p[0] ?? ''));
    else names = names.flatMap((n) => p.map((v) => n + v));
  }
  return { ok: true, names };
}

/** Every `{host}` in the strings of a host definition replaced by the expanded name (`{{host}}` stays literal). */
export function fillHostPlaceholder<T>(value: T, name: string): T {
  if (typeof value === 'string') return value.replace(/(?<!\{)\{host\}(?!\})/g, name) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => fillHostPlaceholder(v, name)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillHostPlaceholder(v, name)])) as T;
  }
  return value;
}

/** A folded list as foldHostNames prints it (`web[01-03],db`): items split at commas outside brackets, each expanded. */
export function expandHostList(text: string): ExpandResult {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if ((c === ',' && depth === 0) || c === undefined) {
      const item = text.slice(start, i);
      if (item !== '') {
        const r = expandHostRange(item);
        if (!r.ok) return { ...r, offset: r.offset + start };
        names.push(...r.names);
      }
      start = i + 1;
    }
  }
  return { ok: true, names };
}
