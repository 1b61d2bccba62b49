/** Remote stderr, cut into bounded whole lines for echoing as it arrives. */

/** Longest stderr line echoed; the rest of a longer line is dropped, and the echo says so. */
export const MAX_STDERR_LINE = 64 * 1024;
const CUT_NOTE = ` … [line cut at ${MAX_STDERR_LINE / 1024} KiB]`;

/**
 * Remote stderr as whole lines, each at most MAX_STDERR_LINE characters. A host can send
 * gigabytes without a newline: holding (and re-splitting) the unfinished line for every chunk
 * was quadratic in time and unbounded in memory, so the cap is applied here, where the data
 * enters, and every later consumer only ever sees short, complete lines.
 */
export class StderrLines {
  private partial = '';
  /** Inside a line already cut: drop until its newline. */
  private dropping = false;

  constructor(private readonly emit: (text: string) => void) {}

  write(text: string): void {
    let out = '';
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl + 1;
      if (this.dropping) {
        if (nl >= 0) this.dropping = false;
      } else {
        const room = MAX_STDERR_LINE - this.partial.length;
        const body = nl < 0 ? end - start : end - start - 1;
        if (body <= room) {
          if (nl < 0) this.partial += text.slice(start, end);
          else {
            out += this.partial + text.slice(start, end);
            this.partial = '';
          }
        } else {
          out += `${this.partial}${text.slice(start, start + room)}${CUT_NOTE}\n`;
          this.partial = '';
          this.dropping = nl < 0;
        }
      }
      start = end;
    }
    if (out !== '') this.emit(out);
  }

  /** The command ended: what is left of an unfinished line goes out as it is. */
  end(text: string): void {
    this.write(text);
    if (this.partial !== '') this.emit(this.partial);
    this.partial = '';
    this.dropping = false;
  }
}
