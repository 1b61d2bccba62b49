// `npm run bench:scale [-- --sizes 200,500,1000] [-- --reps N] [-- --out FILE]`: the controller's cost per host.
// One `chopsticks run` over N ssh hosts (host entries sharing 48 loopback sshd addresses, each
// entry its own connection), two steps (facts.hostname, command true) and a --json report.
// Measured by GNU time around the controller process alone (ssh2 runs in it; no child processes):
// peak RSS and CPU time (user + system). "Per host" is the cost over a 1-host run of the same
// playbook, divided by N. Writes bench/results/scale-<date>.md and prints it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startSshFleet } from './lib/sshd.mjs';
import { REPO } from './lib/tools.mjs';

const BIN = join(REPO, 'bin', 'chopsticks.js');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizes = String(opt('--sizes', '200,500,1000')).split(',').map(Number);
const reps = Number(opt('--reps', '2'));
if (!sizes.every((n) => Number.isInteger(n) && n > 0) || !(reps >= 1)) {
  console.error('usage: node bench/scale.mjs [--sizes 200,500,1000] [--reps N]');
  process.exit(5);
}

const scratch = mkdtempSync(join(os.tmpdir(), 'chopsticks-scale-'));
const log = (m) => console.log(`[scale] ${m}`);
const fleet = await startSshFleet(48);
log(`${fleet.daemonCount} sshd daemons on ${fleet.hosts.length} addresses`);

function playbook(n) {
  const hosts = {};
  for (let i = 0; i < n; i++) {
    const a = fleet.hosts[i % fleet.hosts.length];
    hosts[`node${String(i + 1).padStart(4, '0')}`] = {
      transport: 'ssh',
      host: a.address,
      port: a.port,
      user: fleet.user,
      identity_file: fleet.identityFile,
      known_hosts: fleet.knownHosts,
      connect_timeout: '60s',
    };
  }
  const file = join(scratch, `pb-${n}.yaml`);
  writeFileSync(
    file,
    YAML.stringify({
      version: 1,
      name: `scale ${n}`,
      hosts,
      steps: [{ call: 'facts.hostname' }, { call: 'command', args: { argv: ['true'] } }],
    }),
  );
  return file;
}

function measure(n) {
  const pb = playbook(n);
  const report = join(scratch, `report-${n}.json`);
  const timeFile = join(scratch, `time-${n}`);
  const t0 = performance.now();
  let code = 0;
  try {
    execFileSync(
      '/usr/bin/time',
      ['-f', '%M %U %S', '-o', timeFile, process.execPath, BIN, 'run', pb, '--output', 'quiet', '--json', report],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, HOME: scratch },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch (e) {
    code = e.status ?? -1;
  }
  const wall = performance.now() - t0;
  const [rssKiB, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const ok = Object.values(r.hosts).filter((s) => s === 'ok').length;
  // What went wrong where, in a few words (e.g. handshake timeouts when the machine is saturated).
  const errors = new Map();
  for (const st of r.steps)
    for (const res of Object.values(st.results)) if (!res.ok) errors.set(res.error.kind, (errors.get(res.error.kind) ?? 0) + 1);
  const firstError = r.steps.flatMap((st) => Object.values(st.results)).find((res) => !res.ok)?.error.msg;
  if (firstError) log(`${n} hosts: first error: ${firstError}`);
  const errText = [...errors].map(([k, c]) => `${c} ${k}`).join(', ');
  return {
    n,
    code,
    wallS: wall / 1000,
    rssMiB: rssKiB / 1024,
    cpuS: user + sys,
    ok,
    status: errText ? `${r.status}: ${errText}` : r.status,
  };
}

const best = (list) => list.reduce((a, b) => (b.cpuS < a.cpuS ? b : a));
const rows = [];
try {
  const base = best(Array.from({ length: reps }, () => measure(1)));
  log(`1 host: ${base.rssMiB.toFixed(0)} MiB, ${base.cpuS.toFixed(2)} s CPU`);
  for (const n of sizes) {
    const runs = [];
    for (let i = 0; i < reps; i++) {
      const m = measure(n);
      log(
        `${n} hosts: ${m.status} (${m.ok} ok), ${m.wallS.toFixed(1)} s wall, ${m.rssMiB.toFixed(0)} MiB peak, ${m.cpuS.toFixed(2)} s CPU`,
      );
      runs.push(m);
    }
    const m = best(runs);
    rows.push({ ...m, kibPerHost: ((m.rssMiB - base.rssMiB) * 1024) / n, cpuMsPerHost: ((m.cpuS - base.cpuS) * 1000) / n });
  }
  rows.unshift({ ...base, kibPerHost: NaN, cpuMsPerHost: NaN });
} finally {
  await fleet.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const date = new Date().toISOString().slice(0, 10);
const load = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const md = [
  `# Controller cost per host (${date})`,
  '',
  `\`node bench/scale.mjs --sizes ${sizes.join(',')} --reps ${reps}\` on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average at the end ${load} (the machine is shared).`,
  `One \`chopsticks run\` (2 steps: facts.hostname, command true; --json report) over N ssh hosts on loopback; the best of ${reps} runs by CPU time.`,
  '',
  '| hosts | status | wall | controller peak RSS | controller CPU (user+sys) | RSS per host | CPU per host |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.n} | ${r.status} (${r.ok} ok) | ${r.wallS.toFixed(1)} s | ${r.rssMiB.toFixed(0)} MiB | ${r.cpuS.toFixed(2)} s | ${Number.isNaN(r.kibPerHost) ? '—' : `${r.kibPerHost.toFixed(0)} KiB`} | ${Number.isNaN(r.cpuMsPerHost) ? '—' : `${r.cpuMsPerHost.toFixed(1)} ms`} |`,
  ),
  '',
  'Per host: (N-host run − 1-host run) / N. Wall time includes sshd on the same 2 cores (it does the server side of every handshake), so it says more about this machine than about the controller.',
  '',
].join('\n');
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(opt('--out', join(REPO, 'bench', 'results', `scale-${date}.md`)), md);
console.log(`\n${md}`);
