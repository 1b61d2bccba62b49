/**
 * Measurements for the Docker transport (not a test; run by hand, numbers go in the docs):
 *  - per command: one long-lived `sh` exec fed commands (raw dockerode) vs one exec per command;
 *  - 64 MiB upload: `cat > tmp` through an exec's stdin (what the session's put does) vs the
 *    archive API (putArchive with a tar stream); and the same for download.
 * Usage: compile (tsc with an outDir), start a busybox container, `node measure.js CONTAINER`.
 *
 * Measured (2 shared cores, dockerd 20.10, unix socket; two runs):
 *   long-lived sh exec, per command ........ 0.9 – 1.3 ms
 *   new exec per command ................... 78 – 80 ms
 *   put 64 MiB, exec stdin `cat > tmp` ..... 128 – 147 MiB/s
 *   put 64 MiB, putArchive (tar stream) .... 121 – 161 MiB/s
 *   fetch 64 MiB, exec stdout `cat` ........ 77 – 149 MiB/s
 *   fetch 64 MiB, getArchive ............... 84 – 118 MiB/s
 * The exec stream is as fast as the archive API within noise, so put/fetch stay on the one
 * path shared with ssh and local (sha1 checked remotely, temp + rename).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { createDockerTransport } from '../../src/transports/docker/index.js';
import { FrameDemuxer } from '../../src/transports/docker/demux.js';
import { dockerHost } from '../support/docker.js';
import { collect } from './helpers.js';

const MiB = 1024 * 1024;

async function longLivedShell(docker: Docker, name: string, n: number): Promise<number> {
  const exec = await docker.getContainer(name).exec({ Cmd: ['sh'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const sock = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex & { setNoDelay(v: boolean): void };
  sock.setNoDelay(true);
  const demux = new FrameDemuxer();
  sock.pipe(demux);
  let buf = '';
  let waiting: { marker: string; resolve: () => void } | null = null;
  demux.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    if (waiting !== null && buf.includes(waiting.marker)) {
      buf = '';
      const w = waiting;
      waiting = null;
      w.resolve();
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const marker = `__M_${i}__`;
    await new Promise<void>((resolve) => {
      waiting = { marker, resolve };
      sock.write(`hostname; echo ${marker}\n`);
    });
  }
  const per = (performance.now() - t0) / n;
  sock.end();
  return per;
}

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, 'ascii');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(size.toString(8).padStart(11, '0') + '\0', 124, 12);
  put(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0') + '\0',
    136,
    12,
  );
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

async function* tarOf(file: string, name: string): AsyncGenerator<Buffer> {
  const size = statSync(file).size;
  yield tarHeader(name, size);
  for await (const c of createReadStream(file, { highWaterMark: MiB })) yield c as Buffer;
  const pad = (512 - (size % 512)) % 512;
  yield Buffer.alloc(pad + 1024);
}

export async function measure(container: string): Promise<Record<string, string>> {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const t = createDockerTransport(dockerHost('bench', { container }), { runId: 'bench' });
  await t.connect();
  const out: Record<string, string> = {};

  await longLivedShell(docker, container, 20); // warm up
  out['long-lived sh, ms/command (hostname, n=300)'] = (await longLivedShell(docker, container, 300)).toFixed(2);

  let t0 = performance.now();
  const n = 40;
  for (let i = 0; i < n; i++) {
    const p = t.spawn(['hostname']);
    p.stdin.end();
    const o = collect(p.stdout);
    await p.exit;
    await o;
  }
  out['new exec per command, ms/command (hostname, n=40)'] = ((performance.now() - t0) / n).toFixed(1);

  const file = join(tmpdir(), `chopsticks-bench-${process.pid}.bin`);
  writeFileSync(file, randomBytes(64 * MiB));
  const sha = createHash('sha1');
  for await (const c of createReadStream(file)) sha.update(c as Buffer);
  const localSha = sha.digest('hex');
  try {
    t0 = performance.now();
    const p = t.spawn(['sh', '-c', 'cat > /tmp/bench-cat.bin']);
    p.stdout.resume();
    p.stderr.resume();
    createReadStream(file, { highWaterMark: MiB }).pipe(p.stdin);
    await p.exit;
    const catS = (performance.now() - t0) / 1000;
    out['put 64 MiB via exec stdin (cat > tmp), MiB/s'] = (64 / catS).toFixed(0);

    t0 = performance.now();
    await docker.getContainer(container).putArchive(Readable.from(tarOf(file, 'bench-archive.bin')), { path: '/tmp' });
    const arcS = (performance.now() - t0) / 1000;
    out['put 64 MiB via putArchive (tar stream), MiB/s'] = (64 / arcS).toFixed(0);

    const check = async (path: string) => {
      const p2 = t.spawn(['sha1sum', path]);
      p2.stdin.end();
      const o = collect(p2.stdout);
      await p2.exit;
      return (await o).toString().split(' ')[0];
    };
    out['sha1 ok (cat / archive)'] =
      `${(await check('/tmp/bench-cat.bin')) === localSha} / ${(await check('/tmp/bench-archive.bin')) === localSha}`;

    t0 = performance.now();
    const f = t.spawn(['cat', '/tmp/bench-cat.bin']);
    f.stdin.end();
    const h = createHash('sha1');
    f.stdout.on('data', (c: Buffer) => h.update(c));
    f.stderr.resume();
    await Promise.all([f.exit, new Promise((r) => f.stdout.on('end', r))]);
    out['fetch 64 MiB via exec stdout (cat), MiB/s'] = (64 / ((performance.now() - t0) / 1000)).toFixed(0);
    out['fetch sha1 ok'] = String(h.digest('hex') === localSha);

    t0 = performance.now();
    const arc = await docker.getContainer(container).getArchive({ path: '/tmp/bench-cat.bin' });
    const sink = new PassThrough();
    let bytes = 0;
    sink.on('data', (c: Buffer) => (bytes += c.length));
    await new Promise((r) => arc.pipe(sink).on('finish', r));
    out['fetch 64 MiB via getArchive (tar), MiB/s'] = (64 / ((performance.now() - t0) / 1000)).toFixed(0);
  } finally {
    rmSync(file, { force: true });
    await t.close();
  }
  return out;
}

if (process.argv[2] !== undefined && import.meta.url.endsWith('measure.js')) {
  void measure(process.argv[2]).then((r) => {
    for (const [k, v] of Object.entries(r)) console.log(`${k}: ${v}`);
  });
}
