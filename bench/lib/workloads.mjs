// The workloads W1–W7 of the benchmark issue. Each returns a section for the results file:
// { id, title, what, columns, rows, target, met, notes }.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { interleave } from './measure.mjs';
import {
  ansibleContender,
  chopsticksCliContender,
  chopsticksContender,
  chopsticksExecContender,
  clushContender,
  dockerCliContender,
  floorContender,
  opensshContender,
  parallelScript,
  psshContender,
  sshFloorConfig,
} from './tools.mjs';

const MiB = 1024 * 1024;

function resetDir(path, uid, gid) {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  if (uid !== undefined) chownSync(path, uid, gid);
}

function failuresOf(rec) {
  return rec.failures.length ? rec.failures : [];
}

/** The third-party contenders for an ssh workload, those whose tool is installed and that the mode allows. */
function thirdParty(ctx, base, opForTool, sfx = '') {
  const out = [];
  const { tools, mode } = ctx;
  const others = mode.thirdPartyIn.has(base.workload);
  if (tools.ssh)
    out.push(opensshContender({ ...base, id: `${base.id}-openssh${sfx}`, label: 'OpenSSH, ControlMaster', op: opForTool('openssh') }));
  if (others && tools.pssh && opForTool('pssh'))
    out.push(psshContender({ ...base, id: `${base.id}-pssh${sfx}`, label: 'pssh', op: opForTool('pssh'), tools, reps: mode.slowReps }));
  if (others && tools.clush && opForTool('clush'))
    out.push(clushContender({ ...base, id: `${base.id}-clush${sfx}`, label: 'clush', op: opForTool('clush'), tools, reps: mode.slowReps }));
  if (others && tools.ansible && (base.hosts?.length ?? 0) <= mode.ansibleMaxHosts && opForTool('ansible')) {
    out.push(
      ansibleContender({
        ...base,
        id: `${base.id}-ansible${sfx}`,
        label: 'ansible-core (default)',
        op: opForTool('ansible'),
        tools,
        reps: mode.ansibleReps,
      }),
    );
    out.push(
      ansibleContender({
        ...base,
        id: `${base.id}-ansible-tuned${sfx}`,
        label: 'ansible-core (pipelining, ControlPersist)',
        op: opForTool('ansible'),
        tuned: true,
        tools,
        reps: mode.ansibleReps,
      }),
    );
  }
  return out;
}

function row(rec, value, unit, floorValue, higherIsBetter) {
  const ok = value !== undefined && floorValue !== undefined;
  const ratio = ok ? (higherIsBetter ? value / floorValue : value / floorValue) : undefined;
  return {
    label: rec.label,
    id: rec.id,
    value,
    unit,
    ratio,
    runs: rec.ms.length,
    failures: failuresOf(rec),
    rssKiB: rec.medianRssKiB,
    samples: rec.ms,
  };
}

// ---------------------------------------------------------------- W1

export async function w1(ctx, n) {
  const { fleet, scratch, log, mode } = ctx;
  const hosts = fleet.hosts.slice(0, n);
  const base = { id: `w1-${n}`, workload: 'W1', scratch, fleet, hosts };
  const contenders = [
    floorContender({
      ...base,
      id: `w1-${n}-floor-shell`,
      label: 'ssh2 floor: long-lived shell',
      config: sshFloorConfig(fleet, hosts, { op: 'cmd', mode: 'shell', steps: 1, cmd: 'hostname' }),
    }),
    floorContender({
      ...base,
      id: `w1-${n}-floor-exec`,
      label: 'ssh2: exec channel per step',
      config: sshFloorConfig(fleet, hosts, { op: 'cmd', mode: 'exec', steps: 1, cmd: 'hostname' }),
    }),
    chopsticksContender({ ...base, id: `w1-${n}-chopsticks`, label: 'Chopsticks', steps: [{ call: 'facts.hostname' }] }),
    ...thirdParty(ctx, base, () => ({ kind: 'cmd', cmd: 'hostname', steps: 1 })),
  ];
  log(`W1 cold fan-out, N=${n}`);
  const res = await interleave(contenders, mode.reps, ctx);
  const floor = res.get(`w1-${n}-floor-shell`).medianMs;
  const rows = [...res.values()].map((r) => row(r, r.medianMs, 'ms', floor));
  const chop = rows.find((r) => r.id === `w1-${n}-chopsticks`);
  return {
    id: `W1 (N=${n})`,
    title: `Cold fan-out: facts.hostname once on ${n} hosts, connect included`,
    metric: 'wall time of the whole command (process start to exit), median',
    rows,
    target: `Chopsticks ≤ ${n <= 10 ? 1.25 : 1.15}× floor`,
    met: chop.ratio !== undefined ? chop.ratio <= (n <= 10 ? 1.25 : 1.15) : undefined,
    achieved: chop.ratio,
  };
}

// ---------------------------------------------------------------- W9: ad hoc exec

/** `chopsticks exec INVENTORY all -- uptime` against pssh and OpenSSH (ControlMaster), cold. */
export async function w9(ctx, n) {
  const { fleet, scratch, log, mode } = ctx;
  const hosts = fleet.hosts.slice(0, n);
  const base = { id: `w9-${n}`, workload: 'W9', scratch, fleet, hosts };
  const contenders = [
    floorContender({
      ...base,
      id: `w8-${n}-floor-exec`,
      label: 'ssh2 floor: exec channel',
      config: sshFloorConfig(fleet, hosts, { op: 'cmd', mode: 'exec', steps: 1, cmd: 'uptime' }),
    }),
    chopsticksExecContender({ ...base, id: `w8-${n}-chopsticks`, label: 'Chopsticks exec', argv: ['uptime'] }),
    ...thirdParty(ctx, base, () => ({ kind: 'cmd', cmd: 'uptime', steps: 1 })),
  ];
  log(`W9 ad hoc exec of uptime, N=${n}`);
  const res = await interleave(contenders, mode.reps, ctx);
  const floor = res.get(`w8-${n}-floor-exec`).medianMs;
  const rows = [...res.values()].map((r) => row(r, r.medianMs, 'ms', floor));
  const chop = rows.find((r) => r.id === `w8-${n}-chopsticks`);
  return {
    id: `W9 (N=${n})`,
    title: `Ad hoc: \`chopsticks exec INVENTORY all -- uptime\` on ${n} hosts, connect included`,
    metric: 'wall time of the whole command (process start to exit), median',
    rows,
    target: 'Chopsticks exec ≤ 1.15× floor (no target in the contract; shown against pssh and OpenSSH)',
    met: chop.ratio !== undefined ? chop.ratio <= 1.15 : undefined,
    achieved: chop.ratio,
  };
}

// ---------------------------------------------------------------- W2 / W6: warm steps by difference

/**
 * Warm per-step cost by difference: every tool runs the same playbook with 1 step and with K
 * steps; (T_K - T_1) / (K - 1) removes start-up and connection set-up from the figure.
 */
function warmRows(res, pairs, k, perUnit) {
  return pairs.map(({ id, label }) => {
    const one = res.get(`${id}-1`);
    const many = res.get(`${id}-${k}`);
    const t1 = one.medianMs;
    const tk = many.medianMs;
    // A difference at or below zero is noise, not a speed: report it as not measured.
    const diff = t1 !== undefined && tk !== undefined ? tk - t1 : undefined;
    const warm = diff !== undefined && diff > 0 ? diff / (k - 1) / perUnit : undefined;
    return {
      id,
      label,
      value: warm,
      unit: 'ms',
      totalMs: tk,
      oneMs: t1,
      runs: Math.min(one.ms.length, many.ms.length),
      failures: [...one.failures, ...many.failures],
      samples: many.ms,
      samplesOne: one.ms,
    };
  });
}

/**
 * Every contender runs the program /bin/true. A bare `true` fed to a shell is its builtin: no
 * process at all, which is not what `command: {argv: [true]}` (or Ansible's command module) does.
 */
const TRUE_PROGRAM = '/bin/true';

export async function w2(ctx, nHosts, k) {
  const { fleet, scratch, log, mode } = ctx;
  const hosts = fleet.hosts.slice(0, nHosts);
  const pairs = [];
  const contenders = [];
  for (const steps of [1, k]) {
    const base = { id: `w2`, scratch, fleet, hosts };
    const sfx = `-${steps}`;
    const list = [
      floorContender({
        ...base,
        id: `w2-floor-shell${sfx}`,
        label: 'ssh2 floor: long-lived shell',
        config: sshFloorConfig(fleet, hosts, { op: 'cmd', mode: 'shell', steps, cmd: TRUE_PROGRAM }),
      }),
      floorContender({
        ...base,
        id: `w2-floor-exec${sfx}`,
        label: 'ssh2: exec channel per step',
        config: sshFloorConfig(fleet, hosts, { op: 'cmd', mode: 'exec', steps, cmd: TRUE_PROGRAM }),
      }),
      chopsticksContender({
        ...base,
        id: `w2-chopsticks${sfx}`,
        label: 'Chopsticks',
        steps: Array.from({ length: steps }, () => ({ call: 'command', args: { argv: ['true'] } })),
      }),
      ...thirdParty(ctx, { ...base, id: 'w2', workload: 'W2' }, () => ({ kind: 'cmd', cmd: TRUE_PROGRAM, steps }), sfx),
    ];
    contenders.push(...list);
    if (steps === 1) for (const c of list) pairs.push({ id: c.id.slice(0, -sfx.length), label: c.label });
  }
  log(`W2 warm steps, ${nHosts} hosts × ${k} steps`);
  const res = await interleave(contenders, mode.reps, ctx);
  const rows = warmRows(res, pairs, k, 1);
  const floor = rows.find((r) => r.id === 'w2-floor-shell').value;
  for (const r of rows) r.ratio = r.value !== undefined && floor ? r.value / floor : undefined;
  const chop = rows.find((r) => r.id === 'w2-chopsticks');
  return {
    id: 'W2',
    title: `Warm steps: ${nHosts} hosts × ${k} steps of \`command true\` (every host finishes a step before the next starts)`,
    metric: `warm time per step across all hosts = (T(${k} steps) − T(1 step)) / ${k - 1}; total = T(${k} steps)`,
    rows,
    showTotal: true,
    target: 'Chopsticks ≤ 1.25× floor',
    met: chop.ratio !== undefined ? chop.ratio <= 1.25 : undefined,
    achieved: chop.ratio,
  };
}

// ---------------------------------------------------------------- W3 / W4 / W5: transfers

export async function w3(ctx, nHosts, sizeMiB, blob) {
  const { fleet, scratch, log, mode, remoteRoot, uid, gid } = ctx;
  const hosts = fleet.hosts.slice(0, nHosts);
  const root = join(remoteRoot, 'w3');
  const reset = () => {
    resetDir(root, uid, gid);
    for (const d of ['chop', 'floor', 'floor-sha1', 'ssh', 'pssh', 'clush', 'ans']) resetDir(join(root, d), uid, gid);
  };
  const base = {
    id: 'w3',
    workload: 'W3',
    scratch,
    fleet,
    hosts,
    before: reset,
    after: () => rmSync(root, { recursive: true, force: true }),
  };
  const contenders = [
    floorContender({
      ...base,
      id: 'w3-floor',
      label: 'ssh2 floor: `cat >` over one exec channel per host',
      config: sshFloorConfig(fleet, hosts, { op: 'put', file: blob, remoteDir: join(root, 'floor') }),
    }),
    floorContender({
      ...base,
      id: 'w3-floor-sha1',
      label: 'ssh2 + sha1 (local once, remote after writing): the checksum cost alone',
      config: sshFloorConfig(fleet, hosts, { op: 'put', verify: true, file: blob, remoteDir: join(root, 'floor-sha1') }),
    }),
    chopsticksContender({
      ...base,
      id: 'w3-chopsticks',
      label: 'Chopsticks',
      steps: [{ put: blob, to: `${root}/chop/{host}.blob`, mode: '0644' }],
    }),
    ...thirdParty(ctx, base, (tool) => {
      if (tool === 'openssh') return { kind: 'put', file: blob, dest: (h) => `${root}/ssh/${h.name}.blob` };
      if (tool === 'ansible') return { kind: 'put', file: blob, dest: `${root}/ans/{{ inventory_hostname }}.blob` };
      return { kind: 'put', file: blob, remoteDir: join(root, tool) };
    }),
  ];
  log(`W3 put ${sizeMiB} MiB to ${nHosts} hosts`);
  const res = await interleave(contenders, mode.reps, ctx);
  return transferSection(res, 'W3', `Put: a ${sizeMiB} MiB file to ${nHosts} hosts`, 'w3-floor', 'w3-chopsticks', sizeMiB * nHosts);
}

export async function w4(ctx, nHosts, sizeMiB, blob) {
  const { fleet, scratch, log, mode, remoteRoot, uid, gid } = ctx;
  const hosts = fleet.hosts.slice(0, nHosts);
  const src = join(remoteRoot, 'w4', 'blob');
  resetDir(join(remoteRoot, 'w4'), uid, gid);
  execFileSync('cp', [blob, src]);
  execFileSync('chmod', ['0644', src]);
  const local = join(scratch, 'w4-out');
  const reset = () => {
    resetDir(local);
    for (const d of ['chop', 'floor', 'floor-sha1', 'ssh', 'pssh', 'clush', 'ans']) resetDir(join(local, d));
  };
  const base = {
    id: 'w4',
    workload: 'W4',
    scratch,
    fleet,
    hosts,
    before: reset,
    after: () => rmSync(local, { recursive: true, force: true }),
  };
  const contenders = [
    floorContender({
      ...base,
      id: 'w4-floor',
      label: 'ssh2 floor: `cat` over one exec channel per host',
      config: sshFloorConfig(fleet, hosts, { op: 'fetch', remoteDir: join(remoteRoot, 'w4'), localDir: join(local, 'floor') }),
    }),
    floorContender({
      ...base,
      id: 'w4-floor-sha1',
      label: 'ssh2 + sha1 (remote first, local while streaming): the checksum cost alone',
      config: sshFloorConfig(fleet, hosts, {
        op: 'fetch',
        verify: true,
        remoteDir: join(remoteRoot, 'w4'),
        localDir: join(local, 'floor-sha1'),
      }),
    }),
    chopsticksContender({ ...base, id: 'w4-chopsticks', label: 'Chopsticks', steps: [{ fetch: src, to: `${local}/chop/{host}.blob` }] }),
    ...thirdParty(ctx, base, (tool) => {
      if (tool === 'openssh') return { kind: 'fetch', src, dest: (h) => `${local}/ssh/${h.name}.blob` };
      if (tool === 'ansible') return { kind: 'fetch', src, dest: `${local}/ans/{{ inventory_hostname }}.blob` };
      return { kind: 'fetch', src, localDir: join(local, tool) };
    }),
  ];
  log(`W4 fetch ${sizeMiB} MiB from ${nHosts} hosts`);
  const res = await interleave(contenders, mode.reps, ctx);
  rmSync(join(remoteRoot, 'w4'), { recursive: true, force: true });
  return transferSection(res, 'W4', `Fetch: a ${sizeMiB} MiB file from ${nHosts} hosts`, 'w4-floor', 'w4-chopsticks', sizeMiB * nHosts);
}

function ratioOf(a, b) {
  return a?.value !== undefined && b?.value ? a.value / b.value : undefined;
}

function fmtRatio(r) {
  return r === undefined ? 'n/a' : `${r.toFixed(2)}×`;
}

function transferSection(res, id, title, floorId, chopId, totalMiB) {
  const thr = (rec) => (rec.medianMs ? totalMiB / (rec.medianMs / 1000) : undefined);
  const floor = thr(res.get(floorId));
  const rows = [...res.values()].map((rec) => {
    const v = thr(rec);
    return {
      id: rec.id,
      label: rec.label,
      value: v,
      unit: 'MiB/s',
      totalMs: rec.medianMs,
      ratio: v !== undefined && floor ? v / floor : undefined,
      runs: rec.ms.length,
      failures: rec.failures,
      rssKiB: rec.medianRssKiB,
      samples: rec.ms,
    };
  });
  const chop = rows.find((r) => r.id === chopId);
  // The targets compare like with like: the floor that also checks sha1, and scp through a
  // ControlMaster connection (the fastest way users copy a file with OpenSSH).
  const vsSha1 = ratioOf(
    chop,
    rows.find((r) => r.id === `${floorId}-sha1`),
  );
  const vsScp = ratioOf(
    chop,
    rows.find((r) => r.id === `${id.toLowerCase()}-openssh`),
  );
  return {
    id,
    title,
    metric: `aggregate throughput = ${totalMiB} MiB / median wall time of the whole command (start-up and connect included)`,
    rows,
    showTotal: true,
    showRss: true,
    higherIsBetter: true,
    target: 'Chopsticks throughput ≥ 0.9× the ssh2 + sha1 floor and ≥ 1.1× OpenSSH scp (ControlMaster)',
    met: vsSha1 !== undefined ? vsSha1 >= 0.9 && (vsScp === undefined || vsScp >= 1.1) : undefined,
    achieved: vsSha1,
    note: `${fmtRatio(vsSha1)} of ssh2 + sha1, ${fmtRatio(vsScp)} of scp`,
  };
}

export async function w5(ctx, nHosts, sizeMiB, blob) {
  const { fleet, scratch, log, mode, remoteRoot, uid, gid } = ctx;
  const hosts = fleet.hosts.slice(0, nHosts);
  const root = join(remoteRoot, 'w5');
  const reset = () => {
    resetDir(root, uid, gid);
    for (const d of ['chop', 'floor']) resetDir(join(root, d), uid, gid);
  };
  const base = { scratch, fleet, hosts, before: reset, after: () => rmSync(root, { recursive: true, force: true }) };
  const contenders = [
    floorContender({
      ...base,
      id: 'w5-floor',
      label: 'ssh2 floor: `cat >` over one exec channel per host',
      config: sshFloorConfig(fleet, hosts, { op: 'put', file: blob, remoteDir: join(root, 'floor') }),
    }),
    chopsticksContender({
      ...base,
      id: 'w5-chopsticks',
      label: 'Chopsticks',
      steps: [{ put: blob, to: `${root}/chop/{host}.blob`, mode: '0644' }],
    }),
  ];
  log(`W5 put ${sizeMiB} MiB to ${nHosts} hosts (controller RSS)`);
  const res = await interleave(contenders, mode.bigReps, ctx);
  const rows = [...res.values()].map((rec) => ({
    id: rec.id,
    label: rec.label,
    value: rec.medianRssKiB !== undefined ? rec.medianRssKiB / 1024 : undefined,
    unit: 'MiB peak RSS',
    totalMs: rec.medianMs,
    runs: rec.ms.length,
    failures: rec.failures,
    samples: rec.ms,
  }));
  const floor = rows.find((r) => r.id === 'w5-floor').value;
  for (const r of rows) r.ratio = r.value !== undefined && floor ? r.value / floor : undefined;
  const chop = rows.find((r) => r.id === 'w5-chopsticks');
  return {
    id: 'W5',
    title: `Big put: a ${sizeMiB} MiB file to ${nHosts} hosts, controller peak RSS`,
    metric: 'peak resident set size of the controller process (GNU time %M), median',
    rows,
    showTotal: true,
    target: 'Chopsticks peak RSS < 150 MiB',
    met: chop.value !== undefined ? chop.value < 150 : undefined,
    achieved: chop.value,
  };
}

// ---------------------------------------------------------------- W6 Docker

export async function w6(ctx, containers, k) {
  const { scratch, log, mode, tools } = ctx;
  const pairs = [];
  const contenders = [];
  for (const steps of [1, k]) {
    const sfx = `-${steps}`;
    const list = [
      floorContender({
        id: `w6-floor-shell${sfx}`,
        label: 'dockerode floor: long-lived sh exec',
        scratch,
        script: 'floor-docker.mjs',
        config: { containers, mode: 'shell', steps, cmd: TRUE_PROGRAM },
      }),
      floorContender({
        id: `w6-floor-exec${sfx}`,
        label: 'dockerode: one exec per step',
        scratch,
        script: 'floor-docker.mjs',
        config: { containers, mode: 'exec', steps, cmd: TRUE_PROGRAM },
      }),
      chopsticksContender({
        id: `w6-chopsticks${sfx}`,
        label: 'Chopsticks',
        scratch,
        containers,
        steps: Array.from({ length: steps }, () => ({ call: 'command', args: { argv: ['true'] } })),
      }),
    ];
    if (tools.docker)
      list.push(
        dockerCliContender({
          id: `w6-docker-cli${sfx}`,
          label: '`docker exec` CLI per step',
          scratch,
          containers,
          steps,
          cmd: TRUE_PROGRAM,
          tools,
          reps: mode.slowReps,
        }),
      );
    contenders.push(...list);
    if (steps === 1) for (const c of list) pairs.push({ id: c.id.slice(0, -sfx.length), label: c.label });
  }
  log(`W6 Docker warm steps, ${containers.length} containers × ${k} steps`);
  const res = await interleave(contenders, mode.reps, ctx);
  const rows = warmRows(res, pairs, k, containers.length);
  const floor = rows.find((r) => r.id === 'w6-floor-shell').value;
  for (const r of rows) r.ratio = r.value !== undefined && floor ? r.value / floor : undefined;
  const chop = rows.find((r) => r.id === 'w6-chopsticks');
  return {
    id: 'W6',
    title: `Docker warm steps: ${containers.length} containers × ${k} steps of \`command true\``,
    metric: `warm time per step per container = (T(${k} steps) − T(1 step)) / ${k - 1} / ${containers.length}; total = T(${k} steps)`,
    rows,
    showTotal: true,
    target: 'Chopsticks ≤ 5 ms per step per container',
    met: chop.value !== undefined ? chop.value <= 5 : undefined,
    achieved: chop.value,
  };
}

// ---------------------------------------------------------------- W7 start-up

export async function w7(ctx, playbook) {
  const { log, mode } = ctx;
  const contenders = [
    { id: 'w7-node', label: 'reference: `node -e 0` (bare Node start-up)', command: () => ({ argv: [process.execPath, '-e', '0'] }) },
    chopsticksCliContender({ id: 'w7-validate', label: 'Chopsticks: `chopsticks validate`', args: ['validate', playbook] }),
    chopsticksCliContender({ id: 'w7-plan', label: 'Chopsticks: `chopsticks plan`', args: ['plan', playbook] }),
  ];
  log('W7 start-up');
  const res = await interleave(contenders, mode.startupReps, ctx);
  const node = res.get('w7-node').medianMs;
  const rows = [...res.values()].map((rec) => ({
    id: rec.id,
    label: rec.label,
    value: rec.medianMs,
    unit: 'ms',
    ratio: node ? rec.medianMs / node : undefined,
    runs: rec.ms.length,
    failures: rec.failures,
    samples: rec.ms,
  }));
  const worst = Math.max(...rows.filter((r) => r.id !== 'w7-node').map((r) => r.value ?? Infinity));
  const validate = rows.find((r) => r.id === 'w7-validate');
  return {
    id: 'W7',
    title: 'Start-up: `chopsticks validate` and `chopsticks plan` of a small playbook',
    metric: 'wall time of the whole command, median; ratio column is to bare `node -e 0`',
    rows,
    target: '`validate` ≤ 100 ms and ≤ 1.3× bare node; both < 300 ms',
    met:
      Number.isFinite(worst) && validate?.value !== undefined
        ? worst < 300 && validate.value <= 100 && validate.value <= 1.3 * node
        : undefined,
    achieved: worst,
    // The bare maximum would read as a figure for `validate`, which the target is about.
    note:
      validate?.value !== undefined && Number.isFinite(worst)
        ? `validate ${Math.round(validate.value)} ms, ${(validate.value / node).toFixed(2)}× bare node; the slower command ${Math.round(worst)} ms`
        : undefined,
  };
}

// ---------------------------------------------------------------- TTY: the terminal view's cost

/**
 * The same run with `--output tty` and with `--output plain`, both on a pseudo-terminal (so both
 * pay for the terminal), on the shapes of W2 (many small steps) and W3 (a put, progress events
 * per chunk). Target: the terminal view costs at most 10% more wall time.
 */
export async function wTty(ctx, [nHosts, k], [putHosts, sizeMiB], blob) {
  const { fleet, scratch, log, mode, remoteRoot, uid, gid } = ctx;
  const sections = [];
  const shapes = [
    {
      id: 'W2',
      hosts: fleet.hosts.slice(0, nHosts),
      what: `${nHosts} hosts × ${k} steps of \`command true\``,
      steps: () => Array.from({ length: k }, () => ({ call: 'command', args: { argv: ['true'] } })),
    },
  ];
  if (blob) {
    const root = join(remoteRoot, 'tty');
    shapes.push({
      id: 'W3',
      hosts: fleet.hosts.slice(0, putHosts),
      what: `put a ${sizeMiB} MiB file to ${putHosts} hosts`,
      steps: (output) => [{ put: blob, to: `${root}/${output}/{host}.blob`, mode: '0644' }],
      before: () => {
        resetDir(root, uid, gid);
        for (const d of ['tty', 'plain']) resetDir(join(root, d), uid, gid);
      },
      after: () => rmSync(root, { recursive: true, force: true }),
    });
  }
  for (const shape of shapes) {
    const base = { scratch, fleet, hosts: shape.hosts, before: shape.before, after: shape.after };
    const id = `tty-${shape.id.toLowerCase()}`;
    const contenders = [
      chopsticksContender({
        ...base,
        id: `${id}-plain`,
        label: 'Chopsticks --output plain, on a pty',
        output: 'plain',
        pty: true,
        steps: shape.steps('plain'),
      }),
      chopsticksContender({
        ...base,
        id: `${id}-chopsticks-tty`,
        label: 'Chopsticks --output tty, on a pty',
        output: 'tty',
        pty: true,
        steps: shape.steps('tty'),
      }),
    ];
    log(`TTY view on the ${shape.id} shape: ${shape.what}`);
    const res = await interleave(contenders, mode.reps, ctx);
    const plain = res.get(`${id}-plain`).medianMs;
    const rows = [...res.values()].map((rec) => ({
      id: rec.id,
      label: rec.label,
      value: rec.medianMs,
      unit: 'ms',
      ratio: rec.medianMs !== undefined && plain ? rec.medianMs / plain : undefined,
      runs: rec.ms.length,
      failures: rec.failures,
      samples: rec.ms,
    }));
    const tty = rows.find((r) => r.id === `${id}-chopsticks-tty`);
    sections.push({
      id: `TTY ${shape.id}`,
      title: `Terminal view: ${shape.what}, --output tty against --output plain`,
      metric: 'median wall time of the whole command on a pseudo-terminal (120×40); ratio to --output plain',
      rows,
      ttyView: true,
      target: 'tty ≤ 1.10× plain',
      met: tty.ratio !== undefined ? tty.ratio <= 1.1 : undefined,
      achieved: tty.ratio,
    });
  }
  return sections;
}

// ---------------------------------------------------------------- W8: sync a tree

/**
 * A tree of many small files and a few big ones to N hosts, cold (empty destination) and
 * unchanged (a second sync of the same tree), against rsync over ssh and scp -r in the same run.
 * The unchanged contenders are reset only once: the untimed warm-up fills their destination.
 */
export async function w8(ctx, nHosts, nSmall, nBig, bigMiB) {
  const { fleet, scratch, log, mode, remoteRoot, uid, gid } = ctx;
  const hosts = fleet.hosts.slice(0, nHosts);
  const tree = join(scratch, 'w8-tree');
  rmSync(tree, { recursive: true, force: true });
  for (let i = 0; i < nSmall; i++) {
    const d = join(tree, 'small', String(Math.floor(i / 100)).padStart(2, '0'));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), randomBytes(2048).toString('hex'));
  }
  mkdirSync(join(tree, 'big'), { recursive: true });
  for (let i = 0; i < nBig; i++) writeFileSync(join(tree, 'big', `b${i}.bin`), randomBytes(bigMiB * MiB));
  const root = join(remoteRoot, 'w8');
  resetDir(root, uid, gid);
  const dest = (d) => join(root, d);
  const cold = (d) => () => resetDir(dest(d), uid, gid);
  const once = (d) => {
    resetDir(dest(d), uid, gid);
    return undefined;
  };
  const base = { workload: 'W8', scratch, fleet, hosts };
  const ssh = `ssh -F ${fleet.sshConfig}`;
  const script = (id, line) => {
    const dir = join(scratch, id);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'run.sh');
    parallelScript(path, hosts, 1, line);
    return () => ({ argv: ['/bin/sh', path] });
  };
  once('chop-warm');
  once('rsync-warm');
  const contenders = [
    chopsticksContender({
      ...base,
      id: 'w8-chopsticks-cold',
      label: 'Chopsticks sync, cold',
      before: cold('chop-cold'),
      steps: [{ sync: tree, to: `${dest('chop-cold')}/{host}` }],
    }),
    chopsticksContender({
      ...base,
      id: 'w8-chopsticks-same',
      label: 'Chopsticks sync, unchanged',
      steps: [{ sync: tree, to: `${dest('chop-warm')}/{host}` }],
    }),
    {
      id: 'w8-rsync-cold',
      label: 'rsync -a over ssh, cold',
      before: cold('rsync-cold'),
      command: script('w8-rsync-cold', (h) => `rsync -a -e "${ssh}" ${tree}/ ${h.name}:${dest('rsync-cold')}/${h.name}/`),
    },
    {
      id: 'w8-rsync-same',
      label: 'rsync -a over ssh, unchanged',
      command: script('w8-rsync-same', (h) => `rsync -a -e "${ssh}" ${tree}/ ${h.name}:${dest('rsync-warm')}/${h.name}/`),
    },
    {
      id: 'w8-scp',
      label: 'scp -r (always copies everything)',
      before: cold('scp'),
      command: script('w8-scp', (h) => `scp -q -r -F ${fleet.sshConfig} ${tree} ${h.name}:${dest('scp')}/${h.name}`),
    },
  ];
  const totalMiB = ((nSmall * 4096 + nBig * bigMiB * MiB) / MiB).toFixed(1);
  log(`W8 sync ${nSmall} × 4 KiB + ${nBig} × ${bigMiB} MiB (${totalMiB} MiB) to ${nHosts} hosts`);
  const res = await interleave(contenders, mode.slowReps, ctx);
  rmSync(root, { recursive: true, force: true });
  rmSync(tree, { recursive: true, force: true });
  const floor = res.get('w8-rsync-cold').medianMs;
  const rows = [...res.values()].map((r) => row(r, r.medianMs, 'ms', floor));
  const chopCold = rows.find((r) => r.id === 'w8-chopsticks-cold');
  const rsyncSame = res.get('w8-rsync-same').medianMs;
  const chopSame = res.get('w8-chopsticks-same').medianMs;
  return {
    id: 'W8',
    title: `Sync a tree: ${nSmall} files of 4 KiB + ${nBig} files of ${bigMiB} MiB (${totalMiB} MiB) to ${nHosts} hosts, cold and unchanged`,
    metric: 'wall time of the whole command (process start to exit), median; ratio against rsync cold',
    rows,
    target: 'Chopsticks cold ≤ 1.5× rsync cold; unchanged ≤ 1.5× rsync unchanged',
    met: chopCold.ratio !== undefined && rsyncSame && chopSame ? chopCold.ratio <= 1.5 && chopSame / rsyncSame <= 1.5 : undefined,
    achieved: chopCold.ratio,
  };
}
