export { loadPlaybook, type LoadOptions, type LoadResult } from './load-playbook.js';
export { checkCommandLineExpr } from './rules/limit.js';
export { BUILTIN_SIGNATURES, BUILTIN_NAMES, builtinSignature, type BuiltinSignature } from '../callables/builtins.js';
export { loadPlaybookSchema } from './schema-check.js';
