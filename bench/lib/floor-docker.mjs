// The Docker floor: `steps` steps of `cmd` in every container through dockerode, every
// container finishing step k before k+1 starts. mode 'shell': one long-lived `sh` exec per
// container fed commands; mode 'exec': one exec per step. Usage:
//   node floor-docker.mjs CONFIG.json   CONFIG: { containers: [name], mode, steps, cmd }
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const docker = new Docker();

async function execOnce(name, cmd) {
  const exec = await docker.getContainer(name).exec({ Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise((resolve, reject) => {
    const sink = new PassThrough();
    sink.resume();
    docker.modem.demuxStream(stream, sink, sink);
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  const info = await exec.inspect();
  if (info.ExitCode !== 0) throw new Error(`${name}: ${cmd}: exit ${info.ExitCode}`);
}

async function openShell(name) {
  const exec = await docker.getContainer(name).exec({ Cmd: ['sh'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: true });
  const out = new PassThrough();
  const err = new PassThrough();
  err.resume();
  docker.modem.demuxStream(stream, out, err);
  let buf = '';
  let waiting;
  out.on('data', (d) => {
    buf += d;
    const m = /__FLOOR_END__(\d+)\n/.exec(buf);
    if (m && waiting) {
      buf = buf.slice(m.index + m[0].length);
      const w = waiting;
      waiting = undefined;
      if (m[1] === '0') w.resolve();
      else w.reject(new Error(`${name}: exit ${m[1]}`));
    }
  });
  return {
    run(command) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        stream.write(`${command} </dev/null; echo "__FLOOR_END__$?"\n`);
      });
    },
    close: () => stream.end(),
  };
}

if (cfg.mode === 'shell') {
  const shells = await Promise.all(cfg.containers.map(openShell));
  for (let s = 0; s < cfg.steps; s++) await Promise.all(shells.map((sh) => sh.run(cfg.cmd)));
  for (const sh of shells) sh.close();
} else {
  for (let s = 0; s < cfg.steps; s++) await Promise.all(cfg.containers.map((c) => execOnce(c, cfg.cmd)));
}
// Hijacked sockets may linger in the agent; the work is done.
process.exit(0);
