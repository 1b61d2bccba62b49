/**
 * Custom callables: `callables: { deploy: ./callables/deploy.mjs#deploy }`. The module's
 * function gets a HostHandle and the args and returns JSON (the executor checks it with the
 * JSON guard). A module may export `schema` and `readonly: true`.
 */
import { pathToFileURL } from 'node:url';
import { importUserModule } from '../model/user-module.js';
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { makeHostHandle } from './host-handle.js';
import type { Callable, CallOutcome } from './types.js';

export class CallableLoadError extends Error {
  override name = 'CallableLoadError';
}

export async function loadCustomCallable(modulePath: string, exportName = 'default', name?: string): Promise<Callable> {
  const label = name ?? `${modulePath}#${exportName}`;
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(pathToFileURL(modulePath).href);
  } catch (e) {
    throw new CallableLoadError(`callable ${label}: cannot load ${modulePath}: ${(e as Error).message}`);
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    const has = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new CallableLoadError(
      `callable ${label}: ${modulePath} has no function export '${exportName}'${has.length ? ` (functions: ${has.join(', ')})` : ''}`,
    );
  }
  const readonly = mod.readonly === true;
  const schema = typeof mod.schema === 'object' && mod.schema !== null ? mod.schema : undefined;
  return {
    name: label,
    readonly,
    ...(schema !== undefined ? { schema } : {}),
    async invoke(ctx): Promise<CallOutcome> {
      let value: unknown;
      try {
        value = await (fn as (h: unknown, a: Record<string, Json>) => unknown)(makeHostHandle(ctx), ctx.args);
      } catch (e) {
        if (e instanceof HostError) throw e;
        const err = e instanceof Error ? e : new Error(String(e));
        throw new HostError('failed', `${ctx.hostName}: callable ${label} threw: ${err.message}`, err.stack ?? null);
      }
      // The executor checks that this is JSON; a cast is all that is needed here.
      return { value: value as Json, changed: !readonly };
    },
  };
}
