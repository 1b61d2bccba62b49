// The floor: the least a Node program using ssh2 must do for each workload. Run as its own
// process (like the Chopsticks CLI) so both pay Node's start-up. Usage:
//   node floor-ssh2.mjs CONFIG.json
// CONFIG: { hosts: [{address, port}], user, identityFile, hostKeyB64,
//           op: 'cmd' | 'put' | 'fetch', mode: 'exec' | 'shell', steps, cmd,
//           file, remoteDir, localDir }
// 'cmd' runs `steps` steps of `cmd` on every host, every host finishing step k before k+1
// starts (what a linear playbook does). 'exec' opens one exec channel per step; 'shell' keeps
// one `sh` per host and writes commands to it. 'put' streams `file` to remoteDir/<i>/blob with
// `cat >`; 'fetch' streams remoteDir/blob from every host into localDir/<i>.
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import ssh2 from 'ssh2';
import { createHash } from 'node:crypto';

async function sha1Local(file) {
  const h = createHash('sha1');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const privateKey = readFileSync(cfg.identityFile);
const expectedKey = Buffer.from(cfg.hostKeyB64, 'base64');

function connectHost(h) {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: h.address, port: h.port });
    // ssh2 leaves Nagle on: 54 ms instead of 13 ms per sequential command (docs/transports.md#many-hosts).
    sock.setNoDelay(true);
    const c = new ssh2.Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({
      sock,
      username: cfg.user,
      privateKey,
      hostVerifier: (key) => Buffer.isBuffer(key) && key.equals(expectedKey),
      readyTimeout: 60_000,
    });
  });
}

function execCollect(c, command, stdinFile) {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d) => (out += d));
      ch.stderr.on('data', () => {});
      ch.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command}: exit ${code}`))));
      if (stdinFile) pipeline(createReadStream(stdinFile, { highWaterMark: 256 * 1024 }), ch).catch(reject);
      else ch.end();
    });
  });
}

/** A long-lived `sh` fed one command at a time; the exit status comes back after a marker. */
function openShell(c) {
  return new Promise((resolve, reject) => {
    c.exec('sh', (err, ch) => {
      if (err) return reject(err);
      let buf = '';
      let waiting;
      ch.on('data', (d) => {
        buf += d;
        const m = /__FLOOR_END__(\d+)\n/.exec(buf);
        if (m && waiting) {
          buf = buf.slice(m.index + m[0].length);
          const w = waiting;
          waiting = undefined;
          if (m[1] === '0') w.resolve();
          else w.reject(new Error(`exit ${m[1]}`));
        }
      });
      ch.stderr.on('data', () => {});
      resolve({
        run(command) {
          return new Promise((res, rej) => {
            waiting = { resolve: res, reject: rej };
            ch.write(`${command} </dev/null; echo "__FLOOR_END__$?"\n`);
          });
        },
        close: () => ch.end(),
      });
    });
  });
}

const clients = await Promise.all(cfg.hosts.map(connectHost));
try {
  switch (cfg.op) {
    case 'cmd': {
      if (cfg.mode === 'shell') {
        const shells = await Promise.all(clients.map(openShell));
        for (let s = 0; s < cfg.steps; s++) await Promise.all(shells.map((sh) => sh.run(cfg.cmd)));
        for (const sh of shells) sh.close();
      } else {
        for (let s = 0; s < cfg.steps; s++) await Promise.all(clients.map((c) => execCollect(c, cfg.cmd)));
      }
      break;
    }
    case 'put': {
      // verify: the integrity work every put does (a local sha1, once; the remote file's sha1 checked
      // on the remote; docs/transports.md#transfers-put-and-fetch), without temp file or rename, to
      // show what checksums cost.
      const want = cfg.verify ? await sha1Local(cfg.file) : '';
      const check = (f) => (cfg.verify ? ` && [ "$(sha1sum < ${f} | cut -d' ' -f1)" = ${want} ]` : '');
      await Promise.all(
        clients.map((c, i) =>
          execCollect(
            c,
            `mkdir -p ${cfg.remoteDir}/${i} && cat > ${cfg.remoteDir}/${i}/blob${check(`${cfg.remoteDir}/${i}/blob`)}`,
            cfg.file,
          ),
        ),
      );
      break;
    }
    case 'fetch':
      await Promise.all(
        clients.map(
          (c, i) =>
            new Promise((resolve, reject) => {
              // verify: the remote sha1 first (stderr), the local one while streaming, compared.
              const f = `${cfg.remoteDir}/blob`;
              c.exec(cfg.verify ? `sha1sum < ${f} >&2 && cat ${f}` : `cat ${f}`, (err, ch) => {
                if (err) return reject(err);
                let remote = '';
                ch.stderr.on('data', (d) => (remote += d));
                ch.end();
                const h = createHash('sha1');
                if (cfg.verify) ch.on('data', (d) => h.update(d));
                pipeline(ch, createWriteStream(`${cfg.localDir}/${i}`)).then(() => {
                  if (cfg.verify && remote.split(' ')[0] !== h.digest('hex')) reject(new Error('sha1 mismatch'));
                  else resolve();
                }, reject);
              });
            }),
        ),
      );
      break;
    default:
      throw new Error(`unknown op ${cfg.op}`);
  }
} finally {
  for (const c of clients) c.end();
}
