/**
 * The few lines at the bottom of a terminal that are redrawn in place. Everything written
 * above them is written once and never moved over again, so what is finished stays whole on
 * the screen and in its scrollback, at any width: only the live lines are cut to the width
 * (each then takes exactly one row, and erasing them is exact).
 */

export class LiveRegion {
  /** Rows the live lines take now (the cursor is at the start of the row below them). */
  private rows = 0;

  constructor(private readonly out: NodeJS.WritableStream & { columns?: number; rows?: number }) {}

  /** The terminal's width; one that reports 0 columns (`docker exec -t`, some CI runners) counts as 80. */
  columns(): number {
    const c = this.out.columns;
    return typeof c === 'number' && c > 0 ? c : 80;
  }

  height(): number {
    const r = this.out.rows;
    return typeof r === 'number' && r > 0 ? r : 24;
  }

  /** In one write: erase the live lines, print `permanent` lines after what is there, draw `live`. */
  frame(permanent: readonly string[], live: readonly string[]): void {
    if (this.rows === 0 && permanent.length === 0 && live.length === 0) return;
    let s = this.rows > 0 ? `\r\u001b[${this.rows}A\u001b[J` : '';
    for (const line of permanent) s += `${line}\n`;
    // One column spare: a line exactly as wide as the terminal leaves some terminals in a
    // pending-wrap state that would make the next erase one row short.
    const width = this.columns() - 1;
    for (const line of live) s += `${fitWidth(line, width)}\n`;
    this.rows = live.length;
    this.out.write(s);
  }
}

// eslint-disable-next-line no-control-regex
const SGR = /^\u001b\[[0-9;]*m/;

/**
 * Cuts `line` (our own SGR colour codes allowed, no other control character) to `width`
 * columns. Widths are over-estimated (every character from U+1100 on but braille counts 2),
 * so a line never wraps; at worst it is cut a little early.
 */
export function fitWidth(line: string, width: number): string {
  let used = 0;
  let i = 0;
  let coloured = false;
  while (i < line.length) {
    if (line.charCodeAt(i) === 0x1b) {
      const m = SGR.exec(line.slice(i));
      if (m) {
        coloured = true;
        i += m[0].length;
        continue;
      }
    }
    const cp = line.codePointAt(i)!;
    const w = cp >= 0x1100 && !(cp >= 0x2800 && cp <= 0x28ff) ? 2 : 1;
    if (used + w > width) return `${line.slice(0, i)}${coloured ? '\u001b[0m' : ''}`;
    used += w;
    i += cp > 0xffff ? 2 : 1;
  }
  return line;
}
