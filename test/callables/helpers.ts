import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinCallables } from '../../src/callables/index.js';
import type { CallContext } from '../../src/callables/types.js';
import type { Json } from '../../src/model/playbook.js';
import type { HostSession } from '../../src/transports/session.js';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'callables');

export function makeCtx(session: HostSession, args: Record<string, Json> = {}, extra: Partial<CallContext> = {}): CallContext {
  const ctx: CallContext = {
    session,
    hostName: session.name,
    hostVars: { role: 'test' },
    args,
    baseDir: FIXTURES,
    signal: new AbortController().signal,
    maxResult: 1024 * 1024,
    call: async (name, a) => {
      const c = builtinCallables.get(name);
      if (c === undefined) throw new Error(`no callable ${name}`);
      return (await c.invoke({ ...ctx, args: a })).value;
    },
    ...extra,
  };
  return ctx;
}

export async function call(
  session: HostSession,
  name: string,
  args: Record<string, Json> = {},
  extra: Partial<CallContext> = {},
): Promise<Json> {
  const c = builtinCallables.get(name);
  if (c === undefined) throw new Error(`no callable ${name}`);
  return (await c.invoke(makeCtx(session, args, extra))).value;
}
