// Docker side of the test bed: use the running engine, or start one (and stop only that one),
// then M busybox containers with no network, removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';

function engineUp() {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function hasBin(name) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, name)));
}

/** Returns { containers, stop() } or { skipped: reason }. */
export async function startDockerBed({ count, image, repo, scratch, log }) {
  if (!hasBin('docker')) return { skipped: 'docker CLI not installed' };
  let dockerd;
  if (!engineUp()) {
    if (!hasBin('dockerd') || process.getuid?.() !== 0) return { skipped: 'no Docker engine running and none can be started here' };
    log('starting a private dockerd (--iptables=false --bridge=none)');
    const out = openSync(join(scratch, 'dockerd.log'), 'a');
    dockerd = spawn('dockerd', ['--iptables=false', '--bridge=none'], { stdio: ['ignore', out, out] });
    const deadline = Date.now() + 30_000;
    while (!engineUp()) {
      if (Date.now() > deadline || dockerd.exitCode !== null) {
        dockerd.kill('SIGKILL');
        return { skipped: 'dockerd did not come up within 30 s' };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const stopEngine = async () => {
    if (!dockerd || dockerd.exitCode !== null) return;
    const gone = new Promise((r) => dockerd.once('exit', r));
    dockerd.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
  };
  try {
    execFileSync('sh', [join(repo, 'scripts/make-test-image.sh'), image], { stdio: 'pipe' });
  } catch (e) {
    await stopEngine();
    return {
      skipped: `could not make image ${image}: ${String(e.stderr ?? e)
        .trim()
        .slice(-300)}`,
    };
  }
  const names = Array.from({ length: count }, (_, i) => `chopsticks-bench-${process.pid}-${i + 1}`);
  const made = [];
  const removeAll = () => {
    if (made.length) {
      try {
        execFileSync('docker', ['rm', '-f', ...made], { stdio: 'pipe', timeout: 60_000 });
      } catch {
        // best effort: reported by the leftover check of the next run
      }
    }
  };
  try {
    for (const n of names) {
      execFileSync('docker', ['run', '-d', '--network', 'none', '--name', n, image, 'sleep', '1000000'], { stdio: 'pipe' });
      made.push(n);
    }
  } catch (e) {
    removeAll();
    await stopEngine();
    return {
      skipped: `could not start containers: ${String(e.stderr ?? e)
        .trim()
        .slice(-300)}`,
    };
  }
  let serverVersion = 'unknown';
  try {
    serverVersion = execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' }).trim();
  } catch {
    // informational only
  }
  return {
    containers: names,
    serverVersion,
    startedEngine: Boolean(dockerd),
    async stop() {
      removeAll();
      await stopEngine();
    },
  };
}
