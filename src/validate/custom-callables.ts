/**
 * Custom callables (docs/language.md#custom-callables): `name: ./module.mjs#export`. The module is the user's own local
 * code, imported at validation time so its `schema` and `readonly` exports can be checked.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importUserModule } from '../model/user-module.js';

export interface CustomCallableInfo {
  module: string;
  exportName: string;
  readonly: boolean;
  schema?: object;
}

export type CustomLoadResult = { ok: true; info: CustomCallableInfo } | { ok: false; message: string };

export function splitCallableSpec(spec: string, baseDir: string): { module: string; exportName: string } {
  const hash = spec.lastIndexOf('#');
  const path = hash >= 0 ? spec.slice(0, hash) : spec;
  const exportName = hash >= 0 ? spec.slice(hash + 1) : 'default';
  return { module: isAbsolute(path) ? path : resolve(baseDir, path), exportName };
}

export async function loadCustomCallableInfo(name: string, spec: string, baseDir: string): Promise<CustomLoadResult> {
  const { module, exportName } = splitCallableSpec(spec, baseDir);
  if (!existsSync(module)) {
    return { ok: false, message: `callable '${name}': module ${module} does not exist; the path is relative to the playbook's folder` };
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(pathToFileURL(module).href);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, message: `callable '${name}': importing ${module} failed: ${why}` };
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const which = exportName === 'default' ? 'a default export' : `an export '${exportName}'`;
    return {
      ok: false,
      message: `callable '${name}': ${module} has no function as ${which}${exported.length ? `; it exports ${exported.join(', ')} (write ${spec.split('#')[0]}#NAME)` : ''}`,
    };
  }
  const schema = mod.schema;
  if (schema !== undefined && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    return { ok: false, message: `callable '${name}': the module's 'schema' export must be a JSON Schema object` };
  }
  if (mod.readonly !== undefined && typeof mod.readonly !== 'boolean') {
    return { ok: false, message: `callable '${name}': the module's 'readonly' export must be true or false` };
  }
  return {
    ok: true,
    info: { module, exportName, readonly: mod.readonly === true, ...(schema ? { schema } : {}) },
  };
}
