// Per-command cost: the long-lived local shell session vs a fresh process per command.
// Run after a build: `npx tsc -p tsconfig.build.json && node bench/session-local.mjs [N]`.
import { spawn } from 'node:child_process';
import { LocalTransport } from '../dist/transports/local/index.js';
import { openSession } from '../dist/transports/shell-session.js';

const N = Number(process.argv[2] ?? 300);

function fresh(argv) {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (rc) => resolve({ out, rc }));
  });
}

const session = await openSession(new LocalTransport({ hostName: 'bench' }), { name: 'bench' });
for (let i = 0; i < 20; i++) await session.run(['echo', 'warm']);

let t = performance.now();
for (let i = 0; i < N; i++) {
  const r = await session.run(['echo', String(i)]);
  if (r.stdout !== `${i}\n`) throw new Error(`bad output ${r.stdout}`);
}
const viaSession = (performance.now() - t) / N;

t = performance.now();
for (let i = 0; i < N; i++) {
  const r = await fresh(['echo', String(i)]);
  if (r.out !== `${i}\n`) throw new Error(`bad output ${r.out}`);
}
const viaSpawn = (performance.now() - t) / N;

await session.close();
console.log(`${N} commands (echo):`);
console.log(`  long-lived shell session: ${viaSession.toFixed(2)} ms/command`);
console.log(`  fresh local spawn:        ${viaSpawn.toFixed(2)} ms/command`);
