// Remakes the example outputs of docs/ci.md from real runs: `node docs/examples/make.mjs`
// (after `npm run build`; needs root for the loopback sshd daemons, as the test suite does).
//   ok        4 local hosts
//   failed    6 ssh hosts: one has nothing listening (unreachable), one fails its command
//   check     `run --check` on local hosts: a put that would change files, a mutating command
//   fleet-200 200 ssh hosts (48 loopback sshd addresses) run as 3 shards at once, merged
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startSshFleet } from '../../bench/lib/sshd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', '..', 'bin', 'chopsticks.js');
const work = mkdtempSync(join(os.tmpdir(), 'chopsticks-examples-'));
const env = { ...process.env, HOME: work, NO_COLOR: '1' };

function cli(args, { ok = [0, 2] } = {}) {
  try {
    execFileSync(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    if (!ok.includes(e.status)) throw e;
  }
}
function cliAsync(args) {
  return new Promise((resolve) =>
    spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] }).once('close', resolve),
  );
}
function render(report, name) {
  cli(['report', report, '--format', 'markdown', '-o', join(here, `${name}.md`)], { ok: [0] });
  cli(['report', report, '--format', 'html', '-o', join(here, `${name}.html`)], { ok: [0] });
}
function write(name, pb) {
  writeFileSync(join(work, name), YAML.stringify(pb));
  return name;
}
const sshHost = (fleet, a, extra = {}) => ({
  transport: 'ssh',
  host: a.address,
  port: a.port,
  user: fleet.user,
  identity_file: fleet.identityFile,
  known_hosts: fleet.knownHosts,
  ...extra,
});

// ok
const local = (names) => Object.fromEntries(names.map((n) => [n, 'local']));
cli([
  'run',
  write('ok.yaml', {
    version: 1,
    name: 'Collect facts',
    hosts: local(['app1', 'app2', 'app3', 'db1']),
    steps: [{ call: 'facts.os' }, { call: 'shell', args: { cmd: 'echo release 2.4.1 on {host}' } }, { call: 'ping' }],
  }),
  '--json',
  'ok.json',
  '--output',
  'quiet',
]);
render('ok.json', 'ok');

// check
mkdirSync(join(work, 'files'));
writeFileSync(join(work, 'files', 'app.conf'), 'port=8080\nworkers=4\n');
mkdirSync(join(work, 'remote'));
cli([
  'run',
  write('check.yaml', {
    version: 1,
    name: 'Roll out app.conf',
    hosts: local(['web1', 'web2', 'web3']),
    steps: [
      { call: 'facts.os' },
      { put: 'files/app.conf', to: `${join(work, 'remote')}/{host}.conf` },
      { call: 'command', args: { argv: ['systemctl', 'reload', 'app'] } },
    ],
  }),
  '--check',
  '--json',
  'check.json',
  '--output',
  'quiet',
]);
render('check.json', 'check');

const fleet = await startSshFleet(48);
try {
  // failed
  const names = ['web01', 'web02', 'web03', 'web04', 'db01', 'db02'];
  const hosts = Object.fromEntries(names.map((n, i) => [n, sshHost(fleet, fleet.hosts[i], n === 'db02' ? { port: 1 } : {})]));
  cli([
    'run',
    write('failed.yaml', {
      version: 1,
      name: 'Deploy release 2.4.1',
      hosts,
      groups: { web: ['web01', 'web02', 'web03', 'web04'], db: ['db01', 'db02'] },
      steps: [
        { call: 'facts.hostname' },
        {
          call: 'shell',
          on: 'web',
          args: {
            cmd: 'if [ {host} = web03 ]; then echo "tar: /srv/app/releases/2.4.1: Cannot open: No space left on device" >&2; exit 2; fi; echo deployed 2.4.1',
          },
        },
        { call: 'ping', on: 'all' },
      ],
    }),
    '--json',
    'failed.json',
    '--output',
    'quiet',
  ]);
  render('failed.json', 'failed');

  // fleet-200: 3 shards at once, then merged
  const big = Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [
      `node${String(i + 1).padStart(3, '0')}`,
      sshHost(fleet, fleet.hosts[i % fleet.hosts.length], { connect_timeout: '90s' }),
    ]),
  );
  big.node117.port = 1; // one host down
  const pb = write('fleet.yaml', {
    version: 1,
    name: 'Fleet facts',
    hosts: big,
    steps: [
      { call: 'facts.os' },
      { call: 'facts.uptime' },
      { call: 'shell', args: { cmd: 'if [ {host} = node042 ]; then echo "disk /var is 97% full" >&2; exit 1; fi; echo ok' } },
    ],
  });
  await Promise.all([0, 1, 2].map((i) => cliAsync(['run', pb, '--shard', `${i}/3`, '--json', `fleet-${i}.json`, '--output', 'quiet'])));
  cli(['report', 'merge', 'fleet-0.json', 'fleet-1.json', 'fleet-2.json', '-o', 'fleet-200.json'], { ok: [0] });
  render('fleet-200.json', 'fleet-200');
} finally {
  await fleet.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`examples written to ${here}`);
