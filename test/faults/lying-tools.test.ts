/**
 * The sha1 guarantee of put and fetch (docs/transports.md#transfers-put-and-fetch) against a
 * host whose tools lie: a `sha1sum` that prints a wrong digest, a `tee` or `cat` that changes
 * bytes on the way. Each transfer must fail with checksum_mismatch and keep nothing: the old
 * destination is left as it was, and no temp file stays on either side. The shims come first
 * in the host's PATH (a local host's `env`), so the real transfer scripts run against them.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostError } from '../../src/errors.js';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';

const REAL_PATH = process.env.PATH ?? '/usr/bin:/bin';
/** Changes every 'A' into 'B' (the test files are full of 'A'). */
const FLIP = `tr A B`;
/**
 * `put`/`fetch`: 'caught' (checksum_mismatch, nothing kept) or 'ok' (the shim is not on that
 * path: the transfer must succeed with the right bytes). Put hashes what tee writes, once (one
 * pass, like rsync), so a tee that misreads what arrives is caught only through the controller's
 * digest; fetch sends with cat and hashes with a second reader of the file, so a tool that
 * misreads it on either path is caught.
 */
const SHIMS: Record<string, { tools: Record<string, string>; put?: 'caught' | 'ok'; fetch?: 'caught' | 'ok' }> = {
  'a sha1sum that lies': {
    tools: { sha1sum: `#!/bin/sh\nPATH=${REAL_PATH} sha1sum >/dev/null; echo "da39a3ee5e6b4b0d3255bfef95601890afd80709  -"\n` },
    put: 'caught',
    fetch: 'caught',
  },
  'a tee that corrupts what it reads': { tools: { tee: `#!/bin/sh\nPATH=${REAL_PATH}; ${FLIP} | tee "$@"\n` }, put: 'caught', fetch: 'ok' },
  'a tee that corrupts what it sends': {
    tools: { tee: `#!/bin/sh\nPATH=${REAL_PATH}; tee "$@" | ${FLIP}\n` },
    put: 'caught',
    fetch: 'ok',
  },
  'a cat that corrupts what it sends': { tools: { cat: `#!/bin/sh\nPATH=${REAL_PATH}; cat "$@" | ${FLIP}\n` }, put: 'ok', fetch: 'caught' },
  // As if the file grew or shrank while it was sent: more or fewer bytes than announced.
  'a file that grows while it is sent': {
    tools: { cat: `#!/bin/sh\nPATH=${REAL_PATH}; cat "$@"; printf 'more bytes'\n` },
    fetch: 'caught',
  },
  'a file that shrinks while it is sent': { tools: { cat: `#!/bin/sh\nPATH=${REAL_PATH}; cat "$@" | head -c 1000\n` }, fetch: 'caught' },
  // As if the file changed between the two reads: same size, other bytes.
  'a file that changes while it is sent': {
    tools: { sha1sum: `#!/bin/sh\nPATH=${REAL_PATH}; ${FLIP} | sha1sum\n` },
    fetch: 'caught',
  },
};

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'chopsticks-lying-tools-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs a transfer and checks the outcome the shim calls for; `dest` held 'old' before. */
async function expectOutcome(transfer: Promise<unknown>, want: 'caught' | 'ok', dest: string, content: Buffer): Promise<void> {
  let err: unknown;
  await transfer.catch((e: unknown) => (err = e));
  if (want === 'ok') {
    expect(err).toBeUndefined();
    expect(readFileSync(dest).equals(content)).toBe(true);
  } else {
    expect(err, 'the corruption went unnoticed').toBeInstanceOf(HostError);
    expect((err as HostError).kind, (err as HostError).message).toBe('checksum_mismatch');
    expect(readFileSync(dest, 'utf8')).toBe('old');
  }
  expect(readdirSync(dirname(dest)), 'a temp file was left').toEqual([basename(dest)]);
}

describe.each(Object.entries(SHIMS))('faults: %s', (name, shim) => {
  let dir: string;
  let s: HostSession;
  beforeAll(async () => {
    dir = join(root, name.replace(/\W+/g, '-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const [tool, text] of Object.entries(shim.tools)) {
      writeFileSync(join(bin, tool), text);
      chmodSync(join(bin, tool), 0o755);
    }
    s = await openSession(new LocalTransport({ hostName: 'liar', env: { PATH: `${bin}:${REAL_PATH}` } }), { name: 'liar' });
  });
  afterAll(() => s.close());

  const content = Buffer.concat([Buffer.alloc(300_000, 'A'), randomBytes(1000)]);

  const putWant = shim.put;
  if (putWant !== undefined)
    it(`put: ${putWant}`, async () => {
      const src = join(dir, 'new.bin');
      writeFileSync(src, content);
      const dest = join(dir, 'remote', 'dest.bin');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, 'old');
      await expectOutcome(s.put(src, dest, 0o644, {}), putWant, dest, content);
    });

  const fetchWant = shim.fetch;
  if (fetchWant !== undefined)
    it(`fetch: ${fetchWant}`, async () => {
      const src = join(dir, 'remote-src.bin');
      writeFileSync(src, content);
      const dest = join(dir, 'local', 'got.bin');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, 'old');
      await expectOutcome(s.fetch(src, dest, {}), fetchWant, dest, content);
    });
});
