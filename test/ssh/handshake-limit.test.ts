/**
 * The controller runs at most HANDSHAKES_PER_CONTROLLER ssh handshakes at once, whatever the
 * endpoints (docs/transports.md#many-hosts), and the wait for a slot is not counted against a
 * host's connect_timeout. The servers are tarpits on loopback: they accept and never answer, so
 * every handshake holds its slot until its own timeout.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostError } from '../../src/errors.js';
import { HANDSHAKES_PER_CONTROLLER } from '../../src/transports/ssh/connect.js';
import { createSshTransport } from '../../src/transports/ssh/index.js';
import { testCtx } from './helpers.js';

const HOSTS = HANDSHAKES_PER_CONTROLLER + 8;
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** When each connection arrived (ms since the test started connecting). */
const arrivals: number[] = [];
let started = 0;

beforeAll(async () => {
  for (let i = 0; i < HOSTS; i++) {
    const server = createServer((s) => {
      arrivals.push(Date.now() - started);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
  }
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe('ssh: handshakes of the whole controller', () => {
  it(`runs at most ${HANDSHAKES_PER_CONTROLLER} at once, and the wait does not count against connect_timeout`, async () => {
    const ctx = testCtx();
    const transports = servers.map((server, i) => {
      const port = (server.address() as { port: number }).port;
      return createSshTransport(
        {
          transport: 'ssh',
          name: `tarpit${i}`,
          vars: {},
          pos: { file: 'test.yml', line: 1, col: 1 },
          host: '127.0.0.1',
          port,
          user: 'nobody',
          host_key_check: 'strict',
          connect_timeout_ms: 500,
          keepalive_ms: 15_000,
          keepalive_count: 3,
        },
        ctx,
      );
    });
    started = Date.now();
    const outcomes = await Promise.all(
      transports.map((t) =>
        t.connect().then(
          () => 'connected',
          (e: unknown) => e,
        ),
      ),
    );
    const took = Date.now() - started;
    await Promise.all(transports.map((t) => t.close()));

    expect(arrivals).toHaveLength(HOSTS);
    // The first wave holds every slot until its 500 ms are up; the rest connect after that.
    const firstWave = arrivals.filter((t) => t < 450);
    expect(firstWave).toHaveLength(HANDSHAKES_PER_CONTROLLER);
    expect(Math.min(...arrivals.filter((t) => t >= 450))).toBeGreaterThanOrEqual(480);
    // Every host, those that waited for a slot too, had its own 500 ms.
    for (const o of outcomes) expect(o instanceof HostError && o.kind, String(o)).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(1000);
  });
});
