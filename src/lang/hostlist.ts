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
