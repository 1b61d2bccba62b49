export { builtinCallables } from './builtins.js';
export { loadCustomCallable, CallableLoadError } from './custom.js';
export { makeHostHandle } from './host-handle.js';
export type { Callable, CallContext, CallOutcome } from './types.js';
