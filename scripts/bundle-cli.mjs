// Bundles the compiled CLI (dist/cli/main.js and what it imports) into one CommonJS file,
// dist/bundle/cli.cjs, so a command reads two files instead of ~140 (docs/decisions.md#start-up).
// Runs after tsc in `npm run build`; bin/chopsticks.js falls back to dist/cli/main.js when the
// bundle is missing or older than it, so a bare `tsc` build still runs the code just built.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outfile = `${root}dist/bundle/cli.cjs`;

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // An install without devDependencies: the unbundled dist/ still works, only slower to start.
  console.error('bundle-cli: esbuild is not installed; bin/chopsticks.js will run dist/cli/main.js');
  process.exit(0);
}

// Bundled: our code, the generated validators, yaml (72 small CommonJS files) and p-limit. Everything else is
// loaded at its point of use and stays a runtime require from node_modules: ssh2 and
// dockerode carry native addons, the others are big and needed by few commands.
const external = [
  'ssh2',
  'dockerode',
  'cpu-features',
  'diff',
  'json-logic-engine',
  'junit-report-builder',
  'liquidjs',
  'minimatch',
  'ssh-config',
  'tar-stream',
];

// The generated schema validators go inside the bundle (see setGeneratedValidators).
const contents = `
import { setGeneratedValidators } from './dist/validate/schema-check.js';
setGeneratedValidators(() => require('./schema/playbook.validate.cjs'));
export { main } from './dist/cli/main.js';
export { setUserModuleImporter } from './dist/model/user-module.js';
`;

await esbuild.build({
  stdin: { contents, resolveDir: root, sourcefile: 'cli-bundle-entry.js', loader: 'js' },
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // Every module that reads import.meta.url sits two folders below the package root (dist/X/),
  // as the bundle does (dist/bundle/), so '../../schema/...' still resolves.
  define: { 'import.meta.url': '__chopsticksBundleUrl' },
  banner: { js: "'use strict';\nconst __chopsticksBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // ASCII only: bin/chopsticks.js reads it as latin1, the cheapest decoding.
  charset: 'ascii',
  legalComments: 'none',
  // Smaller to read and to hash; names are kept, so stack traces of an internal error still read.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
console.log(`bundle-cli: ${outfile} (${Math.round(statSync(outfile).size / 1024)} KiB)`);
