// `npm run bench [-- --quick] [-- --only W1,W3,TTY] [-- --reps N]`: starts its own test bed (sshd
// daemons on loopback, busybox containers), runs the workloads against Chopsticks, a minimal
// ssh2/dockerode floor and the tools users would pick instead, stops what it started, and
// writes bench/results/<date>.md and bench/results/latest-summary.md.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startDockerBed } from './lib/docker-bed.mjs';
import { renderResults, renderSummary } from './lib/results.mjs';
import { startSshFleet, TEST_USER } from './lib/sshd.mjs';
import { detectTools, REPO, toolVersions } from './lib/tools.mjs';
import { w1, w2, w3, w4, w5, w6, w7, w8, w9, wTty } from './lib/workloads.mjs';

const USAGE = `usage: node bench/run.mjs [--quick] [--only W1,W2,...] [--reps N] [--no-third-party] [--out DIR]`;

function parseArgs(argv) {
  const o = { quick: false, only: undefined, reps: undefined, thirdParty: true, out: join(REPO, 'bench/results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-third-party') o.thirdParty = false;
    else if (a === '--only')
      o.only = new Set(
        String(argv[++i] ?? '')
          .toUpperCase()
          .split(','),
      );
    else if (a === '--reps') o.reps = Number(argv[++i]);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument '${a}'\n${USAGE}`);
      process.exit(5);
    }
  }
  if (o.reps !== undefined && !(Number.isInteger(o.reps) && o.reps >= 1 && o.reps <= 50)) {
    console.error('bench: --reps must be a whole number from 1 to 50');
    process.exit(5);
  }
  return o;
}

const args = parseArgs(process.argv.slice(2));
const mode = args.quick
  ? {
      name: 'quick',
      reps: 3,
      slowReps: 1,
      bigReps: 2,
      startupReps: 5,
      w1: [10],
      w2: [10, 10],
      transfer: [10, 16],
      w5: [2, 128],
      w6: [4, 10],
      w8: [4, 200, 2, 1],
      w9: 10,
      ansibleReps: 1,
      ansibleMaxHosts: 10,
      thirdPartyIn: new Set(['W1', 'W9']),
    }
  : {
      name: 'full',
      reps: 5,
      slowReps: 3,
      bigReps: 3,
      startupReps: 10,
      w1: [10, 50, 200],
      w2: [50, 20],
      transfer: [10, 64],
      w5: [2, 1024],
      w6: [10, 50],
      w8: [10, 2000, 10, 8],
      w9: 50,
      ansibleReps: 2,
      ansibleMaxHosts: 50,
      thirdPartyIn: new Set(['W1', 'W2', 'W3', 'W4', 'W9']),
    };
if (args.reps) {
  mode.reps = args.reps;
  mode.slowReps = Math.min(mode.slowReps, args.reps);
  mode.bigReps = Math.min(mode.bigReps, args.reps);
  mode.ansibleReps = Math.min(mode.ansibleReps, args.reps);
}
const want = (w) => !args.only || args.only.has(w);

const started = Date.now();
const log = (msg) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const scratch = mkdtempSync(join(os.tmpdir(), 'chopsticks-bench-'));
chmodSync(scratch, 0o755);
const remoteRoot = join(scratch, 'remote');
mkdirSync(remoteRoot);
chmodSync(remoteRoot, 0o755);

const cleanups = [];
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        console.error(`bench: cleanup: ${e?.message ?? e}`);
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\nbench: ${sig}: stopping the test bed`);
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

function machineInfo() {
  let kernel = os.release();
  try {
    kernel = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch {
    // os.release() is enough
  }
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    'cpu model': os.cpus()[0]?.model ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel,
    node: process.version,
    // Other work on the machine skews every figure; the load average says how much there was.
    'load average at start (1, 5, 15 min)': os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', '),
  };
}

function makeBlobFile(path, mib) {
  execFileSync('sh', ['-c', `head -c ${mib * 1024 * 1024} /dev/urandom > '${path}'`]);
  chmodSync(path, 0o644);
}

async function main() {
  const machine = machineInfo();
  const tools = detectTools();
  if (!args.thirdParty) {
    tools.ansible = tools.pssh = tools.clush = undefined;
  }
  const versions = toolVersions(tools);
  const skipped = [];
  const notes = [];
  for (const [t, p] of Object.entries({ 'ansible-core': tools.ansible, pssh: tools.pssh, clush: tools.clush })) {
    if (!p) skipped.push(`${t}: not installed (apt-get install -y ${t === 'clush' ? 'clustershell' : t})`);
  }
  const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || NaN);

  const sshWorkloads = ['W1', 'W2', 'W3', 'W4', 'W5', 'W8', 'W9', 'TTY'].filter(want);
  const hostsNeeded = Math.max(
    0,
    ...(want('W1') ? mode.w1 : []),
    want('W2') ? mode.w2[0] : 0,
    want('W3') || want('W4') ? mode.transfer[0] : 0,
    want('W5') ? mode.w5[0] : 0,
    want('W8') ? mode.w8[0] : 0,
    want('W9') ? mode.w9 : 0,
    want('TTY') ? Math.max(mode.w2[0], mode.transfer[0]) : 0,
  );
  let fleet;
  if (sshWorkloads.length) {
    log(`starting sshd test bed for ${hostsNeeded} hosts`);
    fleet = await startSshFleet(hostsNeeded);
    cleanups.push(() => fleet.stop());
    log(`${fleet.hosts.length} hosts on ${fleet.daemonCount} sshd daemons`);
  }
  const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).trim());
  const ctx = { fleet, scratch, remoteRoot, uid, gid, tools, mode, log };
  execFileSync('chown', [`${uid}:${gid}`, remoteRoot]);

  const sections = [];
  if (want('W1')) for (const n of mode.w1) sections.push(await w1(ctx, n));
  if (want('W2')) sections.push(await w2(ctx, mode.w2[0], mode.w2[1]));
  if (want('W9')) sections.push(await w9(ctx, mode.w9));
  if (want('W3') || want('W4') || want('TTY')) {
    const [n, mib] = mode.transfer;
    const blob = join(scratch, `blob-${mib}`);
    makeBlobFile(blob, mib);
    if (want('W3')) sections.push(await w3(ctx, n, mib, blob));
    if (want('W4')) sections.push(await w4(ctx, n, mib, blob));
    if (want('TTY')) sections.push(...(await wTty(ctx, mode.w2, mode.transfer, blob)));
    rmSync(blob, { force: true });
  }
  if (want('W8')) sections.push(await w8(ctx, ...mode.w8));
  if (want('W5')) {
    const [n, mib] = mode.w5;
    const blob = join(scratch, `blob-${mib}`);
    makeBlobFile(blob, mib);
    sections.push(await w5(ctx, n, mib, blob));
    rmSync(blob, { force: true });
  }
  if (want('W6')) {
    const [count, k] = mode.w6;
    const bed = await startDockerBed({ count, image: 'chopsticks-test:busybox', repo: REPO, scratch, log });
    if (bed.skipped) skipped.push(`W6: ${bed.skipped}`);
    else {
      cleanups.push(() => bed.stop());
      versions['docker engine'] = `${bed.serverVersion}${bed.startedEngine ? ' (started by the bench)' : ''}`;
      sections.push(await w6(ctx, bed.containers, k));
      await bed.stop();
      cleanups.pop();
    }
  }
  if (want('W7')) {
    const pb = join(scratch, 'small.yaml');
    writeFileSync(
      pb,
      [
        'version: 1',
        'name: small',
        'vars: { release: "2.4.1" }',
        'hosts:',
        '  web1: ssh://deploy@10.0.0.11',
        '  web2: { transport: ssh, host: 10.0.0.12, user: deploy, port: 2222 }',
        '  worker1: docker://worker1',
        '  builder: local',
        'groups:',
        '  web: [web1, web2]',
        '  fleet: web | worker1',
        'steps:',
        '  - call: facts.os',
        '    on: fleet',
        '    register: os',
        '  - filter: test',
        '    args: { cmd: "command -v systemctl" }',
        '    on: fleet',
        '    as: systemd_hosts',
        '  - call: command',
        '    args: { argv: [echo, "{vars.release}"] }',
        '    on: web & systemd_hosts',
        '  - fetch: /var/log/app.log',
        '    to: logs/{host}/app.log',
        '    on: web',
        '',
      ].join('\n'),
    );
    sections.push(await w7(ctx, pb));
  }
  if (tools.ansible)
    notes.push(
      `ansible-core runs with gather_facts: false and forks = number of hosts; it is measured only up to ${mode.ansibleMaxHosts} hosts, ${mode.ansibleReps} repetition(s) per figure.`,
    );
  notes.push(
    `pssh, clush and ansible-core are measured in ${[...mode.thirdPartyIn].join(', ')} in this mode; OpenSSH in every ssh workload but W5.`,
  );
  notes.push(
    'pssh and clush put (W3): every host is this same machine, so each connection writes `$(mktemp)` under one folder; they are fed the file on stdin (`pssh -I`, clush stdin).',
  );
  notes.push(
    'OpenSSH with ControlMaster: the first ssh to each host in a run is its master, so a run pays every connect; masters are closed after each run.',
  );

  machine['load average at end (1, 5, 15 min)'] = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  machine['bench duration'] = `${((Date.now() - started) / 60_000).toFixed(1)} min`;
  const date = new Date().toISOString().slice(0, 10);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const name = `${date}${args.quick ? '-quick' : ''}${args.only ? `-${[...args.only].join('-').toLowerCase()}` : ''}.md`;
  mkdirSync(args.out, { recursive: true });
  const results = renderResults({ date: machine.date, command, machine, versions, mode, sections, skipped, notes });
  writeFileSync(join(args.out, name), results);
  writeFileSync(join(args.out, 'latest-summary.md'), renderSummary({ date, command, machine, sections, file: `bench/results/${name}` }));
  log(`wrote ${join(args.out, name)} and latest-summary.md`);
  console.log(`\n${renderSummary({ date, command, machine, sections, file: name })}`);
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  log('test bed stopped');
}
