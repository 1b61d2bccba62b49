import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { HostError } from '../../src/errors.js';
import { CallableLoadError, loadCustomCallable } from '../../src/callables/index.js';
import { LocalTransport } from '../../src/transports/local/index.js';
import { openSession } from '../../src/transports/shell-session.js';
import type { HostSession } from '../../src/transports/session.js';
import { FIXTURES, makeCtx } from './helpers.js';

let s: HostSession;
beforeAll(async () => {
  s = await openSession(new LocalTransport({ hostName: 'custom-host' }), { name: 'custom-host' });
});
afterAll(async () => {
  await s.close();
});

const mod = join(FIXTURES, 'deploy.mjs');

describe('custom callables', () => {
  it('a named export gets a host handle that runs commands and calls built-ins', async () => {
    const c = await loadCustomCallable(mod, 'deploy', 'deploy');
    expect(c.readonly).toBe(false);
    expect(c.schema).toEqual({ type: 'object', properties: { msg: { type: 'string' } } });
    const out = await c.invoke(makeCtx(s, { msg: `it's $(here)` }));
    expect(out).toEqual({
      value: { host: 'custom-host', echoed: `it's $(here)`, os_id: 'debian', vars: { role: 'test' } },
      changed: true,
    });
  });

  it("host.vars is read-only: changing it throws, and the host's vars stay as they were", async () => {
    const c = await loadCustomCallable(mod, 'mutate', 'mutate');
    const ctx = makeCtx(s);
    const err = await c.invoke(ctx).then(
      () => undefined,
      (e: unknown) => e as HostError,
    );
    expect(err?.tb).toMatch(/^TypeError: Cannot assign to read only property 'role'/);
    expect(ctx.hostVars).toEqual({ role: 'test' });
  });

  it('the default export is used when no export is named', async () => {
    const c = await loadCustomCallable(mod);
    expect((await c.invoke(makeCtx(s))).value).toBe('default from custom-host');
  });

  it('a throwing callable is the host error kind failed, with the stack kept', async () => {
    const c = await loadCustomCallable(mod, 'boom', 'boom');
    const e = await c.invoke(makeCtx(s)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).kind).toBe('failed');
    expect((e as HostError).message).toBe('custom-host: callable boom threw: deploy went wrong');
    expect((e as HostError).tb).toContain('deploy.mjs');
  });

  it('missing modules and non-function exports are load errors that say what exists', async () => {
    await expect(loadCustomCallable(join(FIXTURES, 'nope.mjs'), 'x')).rejects.toBeInstanceOf(CallableLoadError);
    const e = await loadCustomCallable(mod, 'notAFunction').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CallableLoadError);
    expect((e as Error).message).toContain('functions: deploy, default, boom');
  });
});
