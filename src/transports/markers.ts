/**
 * Finds the session's end/pid markers in a byte stream, across chunk boundaries, without
 * buffering more than one marker's worth of bytes. Everything that is not a marker is
 * passed on as data, in order.
 */
export class MarkerScanner {
  private pending: Buffer = Buffer.alloc(0);
  /** A marker line longer than this is not ours (our lines are ~60 bytes); give up on it. */
  private static readonly MAX_MARKER = 256;

  constructor(
    private readonly prefix: Buffer,
    private readonly onData: (data: Buffer) => void,
    private readonly onMarker: (body: string) => void,
  ) {}

  feed(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = Buffer.alloc(0);
    for (;;) {
      const at = buf.indexOf(this.prefix);
      if (at < 0) {
        // Keep back a tail that could be the start of a prefix split across chunks.
        const keep = Math.min(buf.length, this.prefix.length - 1);
        const cut = this.partialPrefixStart(buf, keep);
        if (cut > 0) this.onData(buf.subarray(0, cut));
        this.pending = Buffer.from(buf.subarray(cut));
        return;
      }
      if (at > 0) this.onData(buf.subarray(0, at));
      const nl = buf.indexOf(0x0a, at + this.prefix.length);
      if (nl < 0) {
        if (buf.length - at > MarkerScanner.MAX_MARKER) {
          this.onData(buf.subarray(at, at + this.prefix.length));
          buf = buf.subarray(at + this.prefix.length);
          continue;
        }
        this.pending = Buffer.from(buf.subarray(at));
        return;
      }
      this.onMarker(buf.subarray(at + this.prefix.length, nl).toString('latin1'));
      buf = buf.subarray(nl + 1);
    }
  }

  /** Index from which `buf`'s last `keep` bytes could begin the prefix; buf.length if none. */
  private partialPrefixStart(buf: Buffer, keep: number): number {
    for (let start = buf.length - keep; start < buf.length; start++) {
      if (this.prefix.subarray(0, buf.length - start).equals(buf.subarray(start))) return start;
    }
    return buf.length;
  }
}
