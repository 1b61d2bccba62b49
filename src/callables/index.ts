import { commandCallables } from './commands.js';
import { factCallables } from './facts.js';
import { fileCallable } from './file.js';
import { lineCallable } from './line.js';
import type { Callable } from './types.js';
import { builtinSignature } from '../validate/builtin-signatures.js';

export { loadCustomCallable, CallableLoadError } from './custom.js';
export { makeHostHandle } from './host-handle.js';
export type { Callable, CallContext, CallOutcome } from './types.js';

/** The built-in callables (docs/language.md#built-in-callables), by name. */
export const builtinCallables: ReadonlyMap<string, Callable> = new Map(
  [...factCallables, ...commandCallables, fileCallable, lineCallable].map((c) => [c.name, { ...c, schema: builtinSignature(c.name)?.schema ?? c.schema }]),
);
