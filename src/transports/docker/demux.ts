/**
 * Docker's multiplexed attach stream (non-TTY exec): frames of an 8-byte header
 * `[type, 0, 0, 0, len(u32be)]` followed by `len` payload bytes, type 1 = stdout, 2 = stderr.
 *
 * Written instead of `modem.demuxStream` because that one ignores backpressure (a 64 MiB
 * fetch would sit in memory when the reader is slower than the socket) and copies its
 * whole pending buffer for every frame. Here a frame's payload is forwarded as slices of the
 * incoming chunks, and the socket is paused while stdout's consumer is behind.
 * stderr never holds the stream back: a caller that only drains stdout must not deadlock.
 */
import { PassThrough, Writable } from 'node:stream';

const HEADER = 8;

export class FrameDemuxer extends Writable {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private remaining = 0;
  private target: PassThrough | null = null;

  /** Bytes of a frame still expected when the stream ended: a torn frame means the peer died. */
  get midFrame(): boolean {
    return this.headerFill > 0 || this.remaining > 0;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    let offset = 0;
    let mustWait = false;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(HEADER - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER) break;
        this.headerFill = 0;
        const type = this.header[0];
        this.remaining = this.header.readUInt32BE(4);
        // Type 0 (stdin echo) is never sent for exec; treat unknown types as stdout rather than lose bytes.
        this.target = type === 2 ? this.stderr : this.stdout;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      const slice = chunk.subarray(offset, offset + take);
      offset += take;
      this.remaining -= take;
      const target = this.target!;
      if (!target.write(slice) && target === this.stdout) mustWait = true;
    }
    if (!mustWait) {
      done();
      return;
    }
    // Resume when stdout drains, or when its reader goes away (destroyed) so we never hang.
    const resume = (): void => {
      this.stdout.off('drain', resume);
      this.stdout.off('close', resume);
      done();
    };
    this.stdout.on('drain', resume);
    this.stdout.on('close', resume);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.stdout.end();
    this.stderr.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.stdout.writableEnded) this.stdout.end();
    if (!this.stderr.writableEnded) this.stderr.end();
    done(err);
  }
}
