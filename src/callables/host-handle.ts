/**
 * The host handle a custom callable receives: the session's commands and transfers with
 * the step's become/timeout/cancellation applied, paths relative to the playbook.
 */
import { resolve } from 'node:path';
import type { Json } from '../model/playbook.js';
import type { HostHandle, RunOptions } from '../transports/session.js';
import { baseRunOptions } from './run-opts.js';
import type { CallContext } from './types.js';

export function makeHostHandle(ctx: CallContext): HostHandle {
  const runOpts = (opts: RunOptions = {}): RunOptions => baseRunOptions(ctx, stripUndefined(opts));
  const transferOpts = { become: ctx.become, signal: ctx.signal };
  return Object.freeze({
    name: ctx.hostName,
    // A frozen copy: the callable cannot change what later steps read as {hostvars...}.
    vars: frozenCopy(ctx.hostVars),
    run: (argv: string[], opts?: RunOptions) => ctx.session.run(argv, runOpts(opts)),
    shell: (cmd: string, opts?: RunOptions) => ctx.session.shell(cmd, runOpts(opts)),
    put: (localPath: string, remotePath?: string, opts?: { mode?: number }) =>
      ctx.session.put(resolve(ctx.baseDir, localPath), remotePath, opts?.mode ?? 0o644, transferOpts),
    fetch: (remotePath: string, localPath?: string) =>
      ctx.session.fetch(remotePath, localPath === undefined ? undefined : resolve(ctx.baseDir, localPath), transferOpts),
    call: (name: string, args: Record<string, Json> = {}) => ctx.call(name, args),
  });
}

function frozenCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  const copy = (Array.isArray(v) ? v.map(frozenCopy) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, frozenCopy(x)]))) as T;
  return Object.freeze(copy);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
