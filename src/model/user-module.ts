/**
 * How user modules (custom callables) are imported. The CLI bundle is compiled by
 * bin/chopsticks.js with vm.Script (for its V8 code cache) and an import() inside such a script
 * has no module loader: bin passes its own import() here. Everywhere else this is plain import().
 */
type Importer = (url: string) => Promise<Record<string, unknown>>;

let importer: Importer = (url) => import(url) as Promise<Record<string, unknown>>;

export function importUserModule(url: string): Promise<Record<string, unknown>> {
  return importer(url);
}

export function setUserModuleImporter(f: Importer): void {
  importer = f;
}
