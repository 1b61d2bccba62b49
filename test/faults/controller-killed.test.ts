/**
 * The controller killed outright (SIGKILL: no clean-up of its own runs) while a local host runs
 * a long command: the host-side watcher sees its parent (the controller) gone and stops the
 * command, as sshd's end does for ssh hosts (frozen-host.test.ts). Without it, the command ran
 * on with nobody to report to.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { processesMatching, waitFor } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it("a local host's command stops within seconds of the controller being killed", async () => {
  const sleep = `37.${process.pid}${Math.floor(Math.random() * 1000)}`;
  // The controller is a child process (dist/, which vitest's globalSetup builds) that opens a
  // session and starts the command.
  const script = `
    const { LocalTransport } = await import(${JSON.stringify(`${ROOT}dist/transports/local/index.js`)});
    const { openSession } = await import(${JSON.stringify(`${ROOT}dist/transports/shell-session.js`)});
    const s = await openSession(new LocalTransport({ hostName: 'l' }), { name: 'l' });
    s.run(['sleep', ${JSON.stringify(sleep)}]).catch(() => {});
    setInterval(() => {}, 1000);
  `;
  const controller = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' });
  try {
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 1, 15_000), 'the command never started').toBe(true);
    controller.kill('SIGKILL');
    const t0 = Date.now();
    expect(await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 6_000), 'the command outlived its controller').toBe(true);
    console.log(`[faults] command stopped ${Date.now() - t0} ms after the controller was killed`);
  } finally {
    controller.kill('SIGKILL');
    for (const pid of processesMatching(`sleep ${sleep}`)) process.kill(pid, 'SIGKILL');
  }
}, 30_000);
