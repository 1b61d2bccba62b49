import type { Readable } from 'node:stream';
import type { RemoteProcess, Transport } from '../../src/transports/types.js';

export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion, feeding `input` (or nothing) and closing stdin. */
export async function runArgv(t: Transport, argv: string[], input?: string | Buffer): Promise<Ran> {
  const p: RemoteProcess = t.spawn(argv);
  const out = collect(p.stdout);
  const err = collect(p.stderr);
  p.stdin.end(input);
  const [exit, stdout, stderr] = await Promise.all([p.exit, out, err]);
  return { ...exit, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
}
