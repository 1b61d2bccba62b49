/**
 * The built-in callables (docs/language.md#built-in-callables), one module per family, each
 * declaring its name, read-only flag, argument schema and behaviour once. Validation reads the
 * signatures from here; the modules import nothing that reaches a host (they run over a
 * HostSession they are given), so loading them costs `validate` next to nothing.
 */
import { commandCallables } from './commands.js';
import { factCallables } from './facts.js';
import { fileCallable } from './file.js';
import { lineCallable } from './line.js';
import type { BuiltinCallable } from './types.js';

const BUILTIN_CALLABLES: readonly BuiltinCallable[] = [...factCallables, ...commandCallables, fileCallable, lineCallable];

export const builtinCallables: ReadonlyMap<string, BuiltinCallable> = new Map(BUILTIN_CALLABLES.map((c) => [c.name, c]));

export type BuiltinSignature = Pick<BuiltinCallable, 'name' | 'readonly' | 'schema' | 'description'>;

export const BUILTIN_SIGNATURES: readonly BuiltinSignature[] = BUILTIN_CALLABLES.map(({ name, readonly, schema, description }) => ({
  name,
  readonly,
  schema,
  description,
}));

export function builtinSignature(name: string): BuiltinSignature | undefined {
  return builtinCallables.get(name);
}

export const BUILTIN_NAMES: readonly string[] = BUILTIN_CALLABLES.map((c) => c.name);

/** Whether a callable only reads: a built-in's flag, or a custom module's `readonly` export (false when absent). */
export function isReadonlyCallable(name: string, custom: ReadonlyArray<{ name: string; readonly?: boolean }>): boolean {
  return builtinSignature(name)?.readonly ?? custom.find((c) => c.name === name)?.readonly === true;
}
