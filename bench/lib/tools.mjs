// The contenders: how each tool is asked to do a workload, as the command a user would type.
// Every builder returns a contender for measure.interleave().
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHOPSTICKS_BIN = join(REPO, 'bin/chopsticks.js');

function which(bin) {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  return undefined;
}

/** Optional third-party tools present on this machine (Debian packages). */
export function detectTools() {
  return {
    ansible: which('ansible-playbook'),
    pssh: which('parallel-ssh') ?? which('pssh'),
    pslurp: which('parallel-slurp') ?? which('pslurp'),
    clush: which('clush'),
    docker: which('docker'),
    ssh: which('ssh'),
  };
}

export function toolVersions(tools) {
  const v = {};
  const tryRun = (name, argv) => {
    try {
      // `ssh -V` prints its version on stderr.
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      v[name] = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0].trim() || 'unknown';
    } catch (e) {
      v[name] =
        String(e.stderr ?? '')
          .split('\n')[0]
          .trim() || 'unknown';
    }
  };
  if (tools.ssh) tryRun('openssh', [tools.ssh, '-V']);
  if (tools.ansible) tryRun('ansible-core', [tools.ansible, '--version']);
  if (tools.pssh) tryRun('pssh', [tools.pssh, '--version']);
  if (tools.clush) tryRun('clush', [tools.clush, '--version']);
  try {
    v.ssh2 = JSON.parse(readFileSync(join(REPO, 'node_modules/ssh2/package.json'), 'utf8')).version;
  } catch {
    // not installed: the floor will fail and say so
  }
  return v;
}

// ---------------------------------------------------------------- Chopsticks

function sshHostSpec(fleet, h) {
  return {
    transport: 'ssh',
    host: h.address,
    port: h.port,
    user: fleet.user,
    identity_file: fleet.identityFile,
    known_hosts: fleet.knownHosts,
  };
}

/** The view a user gets on a terminal; the bench runs a command under a real pseudo-terminal (util-linux `script`). */
function underPty(argv) {
  const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  return ['script', '-qfec', `stty cols 120 rows 40; exec ${argv.map(quote).join(' ')}`, '/dev/null'];
}

/**
 * steps: array of playbook steps; hosts: fleet hosts or docker container names.
 * output: the human output mode (quiet by default); pty: run it on a pseudo-terminal.
 */
export function chopsticksContender({
  id,
  label,
  scratch,
  fleet,
  hosts,
  containers,
  steps,
  reps,
  before,
  after,
  output = 'quiet',
  pty = false,
}) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const playbook = join(dir, 'playbook.yaml');
  const report = join(dir, 'report.json');
  const hostMap = {};
  for (const h of hosts ?? []) hostMap[h.name] = sshHostSpec(fleet, h);
  for (const c of containers ?? []) hostMap[c] = { transport: 'docker', container: c };
  writeFileSync(playbook, YAML.stringify({ version: 1, name: id, hosts: hostMap, steps }));
  return {
    id,
    label,
    reps,
    before,
    after,
    command: () => {
      rmSync(report, { force: true });
      const argv = [process.execPath, CHOPSTICKS_BIN, 'run', playbook, '--output', output, '--json', report];
      return { argv: pty ? underPty(argv) : argv };
    },
    check: () => {
      if (!existsSync(report)) return 'no report written';
      const r = JSON.parse(readFileSync(report, 'utf8'));
      if (r.status !== 'ok') return `report status ${r.status}`;
      return undefined;
    },
  };
}

/** `chopsticks exec INVENTORY all -- ARGV` over the fleet's hosts (an inventory file, no playbook). */
export function chopsticksExecContender({ id, label, scratch, fleet, hosts, argv, reps }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const inventory = join(dir, 'inventory.yaml');
  const report = join(dir, 'report.json');
  const hostMap = {};
  for (const h of hosts) hostMap[h.name] = sshHostSpec(fleet, h);
  writeFileSync(inventory, YAML.stringify({ hosts: hostMap }));
  return {
    id,
    label,
    reps,
    command: () => {
      rmSync(report, { force: true });
      return { argv: [process.execPath, CHOPSTICKS_BIN, 'exec', inventory, 'all', '--output', 'quiet', '--json', report, '--', ...argv] };
    },
    check: () => {
      if (!existsSync(report)) return 'no report written';
      const r = JSON.parse(readFileSync(report, 'utf8'));
      if (r.status !== 'ok') return `report status ${r.status}`;
      return undefined;
    },
  };
}

export function chopsticksCliContender({ id, label, args }) {
  return { id, label, command: () => ({ argv: [process.execPath, CHOPSTICKS_BIN, ...args] }) };
}

// ---------------------------------------------------------------- ssh2 and dockerode floors

export function floorContender({ id, label, scratch, config, script = 'floor-ssh2.mjs', reps, before, after }) {
  const file = join(scratch, `${id}.json`);
  writeFileSync(file, JSON.stringify(config));
  return { id, label, reps, before, after, command: () => ({ argv: [process.execPath, join(HERE, script), file] }) };
}

export function sshFloorConfig(fleet, hosts, extra) {
  return {
    hosts: hosts.map((h) => ({ address: h.address, port: h.port })),
    user: fleet.user,
    identityFile: fleet.identityFile,
    hostKeyB64: fleet.hostKeyPub.split(' ')[1],
    ...extra,
  };
}

// ---------------------------------------------------------------- shell-script drivers

/** A /bin/sh script that runs `lines` per host in parallel, `steps` times, failing if any fails. */
export function parallelScript(path, hosts, stepsCount, lineFor) {
  const body = [
    '#!/bin/sh',
    'fail=0',
    `i=0; while [ $i -lt ${stepsCount} ]; do`,
    '  pids=""',
    ...hosts.map((h) => `  ${lineFor(h)} & pids="$pids $!"`),
    '  for p in $pids; do wait $p || fail=1; done',
    '  [ $fail = 0 ] || exit 1',
    '  i=$((i+1))',
    'done',
    '',
  ].join('\n');
  writeFileSync(path, body, { mode: 0o755 });
}

/** before/after hooks that give each repetition fresh OpenSSH control masters (a run pays every connect). */
function withControlMasters(controlDir, before, after) {
  return {
    before: async (rep) => {
      mkdirSync(controlDir, { recursive: true });
      await before?.(rep);
    },
    after: async (rep) => {
      await closeMasters(controlDir);
      await after?.(rep);
    },
  };
}

function closeMasters(controlDir) {
  if (!existsSync(controlDir)) return Promise.resolve();
  const socks = readdirSync(controlDir);
  return Promise.all(
    socks.map(
      (s) =>
        new Promise((resolve) => execFile('ssh', ['-o', `ControlPath=${join(controlDir, s)}`, '-O', 'exit', 'unused'], () => resolve())),
    ),
  ).then(() => rmSync(controlDir, { recursive: true, force: true }));
}

/**
 * OpenSSH with ControlMaster: each host's first ssh becomes its master (so a run still pays
 * every connect), later ones multiplex over it. Masters are closed after each run.
 * op: {kind: 'cmd', cmd, steps} | {kind: 'put', file, dest(h)} | {kind: 'fetch', src, dest(h)}
 */
export function opensshContender({ id, label, scratch, fleet, hosts, op, reps, before, after }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const controlDir = join(dir, 'cm');
  const script = join(dir, 'run.sh');
  const ssh = `ssh -F ${fleet.sshConfig} -o ControlMaster=auto -o ControlPath=${controlDir}/%C -o ControlPersist=120`;
  if (op.kind === 'cmd') parallelScript(script, hosts, op.steps, (h) => `${ssh} ${h.name} ${op.cmd}`);
  else if (op.kind === 'put') parallelScript(script, hosts, 1, (h) => `${ssh} ${h.name} 'cat > ${op.dest(h)}' < ${op.file}`);
  else parallelScript(script, hosts, 1, (h) => `${ssh} ${h.name} 'cat ${op.src}' > ${op.dest(h)}`);
  return {
    id,
    label,
    reps,
    ...withControlMasters(controlDir, before, after),
    command: () => ({ argv: ['/bin/sh', script] }),
  };
}

function writeHostsFile(path, hosts) {
  writeFileSync(path, hosts.map((h) => `${h.name}\n`).join(''));
}

/**
 * pssh (parallel-ssh): a cold ssh per host per invocation, as it is normally used.
 * op: {kind: 'cmd', cmd, steps} | {kind: 'put', file, remoteDir} | {kind: 'fetch', src, localDir}
 */
export function psshContender({ id, label, scratch, fleet, hosts, op, tools, reps, before, after }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const hostsFile = join(dir, 'hosts');
  writeHostsFile(hostsFile, hosts);
  const common = `-x "-F ${fleet.sshConfig}" -p ${hosts.length} -t 0 -h ${hostsFile}`;
  const script = join(dir, 'run.sh');
  let line;
  if (op.kind === 'cmd') line = `${tools.pssh} ${common} ${op.cmd} >/dev/null`;
  // Every host is this same machine: mktemp gives each connection its own remote file.
  else if (op.kind === 'put') line = `${tools.pssh} ${common} -I 'cat > $(mktemp -p ${op.remoteDir})' < ${op.file} >/dev/null`;
  else line = `${tools.pslurp} ${common} -L ${op.localDir} ${op.src} blob >/dev/null`;
  const steps = op.kind === 'cmd' ? op.steps : 1;
  writeFileSync(script, `#!/bin/sh\nset -e\ni=0; while [ $i -lt ${steps} ]; do ${line}; i=$((i+1)); done\n`, { mode: 0o755 });
  return { id, label, reps, before, after, command: () => ({ argv: ['/bin/sh', script] }) };
}

/** ClusterShell's clush, fan-out = number of hosts. */
export function clushContender({ id, label, scratch, fleet, hosts, op, tools, reps, before, after }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const common = `-f ${hosts.length} -o "-F ${fleet.sshConfig}" -w ${hosts.map((h) => h.name).join(',')}`;
  const script = join(dir, 'run.sh');
  let line;
  if (op.kind === 'cmd') line = `${tools.clush} ${common} --nostdin ${op.cmd} >/dev/null`;
  else if (op.kind === 'put') line = `${tools.clush} ${common} 'cat > $(mktemp -p ${op.remoteDir})' < ${op.file} >/dev/null`;
  else line = `${tools.clush} ${common} --nostdin --rcopy ${op.src} --dest ${op.localDir} >/dev/null`;
  const steps = op.kind === 'cmd' ? op.steps : 1;
  writeFileSync(script, `#!/bin/sh\nset -e\ni=0; while [ $i -lt ${steps} ]; do ${line}; i=$((i+1)); done\n`, { mode: 0o755 });
  return { id, label, reps, before, after, command: () => ({ argv: ['/bin/sh', script] }) };
}

/**
 * ansible-playbook, forks = number of hosts, no fact gathering. tuned: pipelining on (the
 * default ssh_args already hold ControlMaster=auto / ControlPersist=60s).
 * op: {kind: 'cmd', cmd, steps} | {kind: 'put', file, dest: jinja path} | {kind: 'fetch', src, dest: jinja path}
 */
export function ansibleContender({ id, label, scratch, fleet, hosts, op, tuned, tools, reps, before, after }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const inventory = join(dir, 'inventory.ini');
  writeFileSync(
    inventory,
    [
      '[bench]',
      ...hosts.map((h) => h.name),
      '[bench:vars]',
      `ansible_ssh_common_args=-F ${fleet.sshConfig}`,
      'ansible_python_interpreter=/usr/bin/python3',
      '',
    ].join('\n'),
  );
  let tasks;
  if (op.kind === 'cmd') tasks = Array.from({ length: op.steps }, () => ({ command: op.cmd }));
  else if (op.kind === 'put') tasks = [{ copy: { src: op.file, dest: op.dest, mode: '0644' } }];
  else tasks = [{ fetch: { src: op.src, dest: op.dest, flat: true } }];
  const playbook = join(dir, 'playbook.yaml');
  writeFileSync(playbook, YAML.stringify([{ hosts: 'bench', gather_facts: false, tasks }]));
  const controlDir = join(dir, 'cp');
  const env = {
    ...process.env,
    ANSIBLE_FORKS: String(hosts.length),
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_PIPELINING: tuned ? 'True' : 'False',
  };
  return {
    id,
    label,
    reps,
    ...withControlMasters(controlDir, before, after),
    command: () => ({ argv: [tools.ansible, '-i', inventory, playbook], env }),
  };
}

/** `docker exec NAME CMD` per container per step: what a shell user would write. */
export function dockerCliContender({ id, label, scratch, containers, steps, cmd, tools, reps }) {
  const dir = join(scratch, id);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'run.sh');
  parallelScript(
    script,
    containers.map((c) => ({ name: c })),
    steps,
    (h) => `${tools.docker} exec ${h.name} ${cmd}`,
  );
  return { id, label, reps, command: () => ({ argv: ['/bin/sh', script] }) };
}
