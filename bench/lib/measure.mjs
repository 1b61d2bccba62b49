// Timing and memory of one command as a whole process, and interleaved repetitions.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TIME_BIN = '/usr/bin/time';

/**
 * Run argv to completion. Wall time is taken around the process; peak RSS (KiB) comes from
 * GNU time's %M (the process's own getrusage), when /usr/bin/time exists.
 */
export function runTimed(argv, { env, cwd, stdinFile, timeoutMs = 600_000, scratch }) {
  const rssFile = scratch && existsSync(TIME_BIN) ? join(scratch, `rss-${process.pid}-${Date.now()}`) : undefined;
  const full = rssFile ? [TIME_BIN, '-f', '%M', '-o', rssFile, ...argv] : argv;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(full[0], full.slice(1), {
      env: env ?? process.env,
      cwd,
      stdio: [stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (stdinFile) {
      createReadStream(stdinFile)
        .pipe(child.stdin)
        .on('error', () => {});
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < 64 * 1024) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n[bench] killed after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code: -1, stdout, stderr: `${stderr}\n${e.message}`, rssKiB: undefined });
    });
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      let rssKiB;
      if (rssFile && existsSync(rssFile)) {
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop();
        rssKiB = Number(last);
        if (!Number.isFinite(rssKiB)) rssKiB = undefined;
        rmSync(rssFile, { force: true });
      }
      resolve({ ms, code, stdout, stderr, rssKiB });
    });
  });
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Run every contender `reps` times, interleaved (A, B, C, A, B, C, ...), so that drift in the
 * machine's load hits all of them alike. A contender:
 *   { id, label, reps?, before?(rep), command(rep) -> {argv, env?, cwd?, stdinFile?}, after?(rep), check?(result) }
 * A failing run is recorded as a failure (with its stderr) and not timed.
 */
export async function interleave(contenders, reps, { scratch, log }) {
  const out = new Map(contenders.map((c) => [c.id, { id: c.id, label: c.label, ms: [], rssKiB: [], failures: [] }]));
  // One untimed run of each cheap contender first: page cache, sshd's first fork, Node's
  // compile cache. Slow third-party tools (own `reps`) are not warmed, to bound the run time.
  for (const c of contenders) {
    if (c.reps !== undefined) continue;
    try {
      await c.before?.(-1);
      const cmd = await c.command(-1);
      await runTimed(cmd.argv, { ...cmd, scratch });
    } catch {
      // a real failure shows in the timed runs
    } finally {
      await c.after?.(-1);
    }
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const c of contenders) {
      if (rep >= (c.reps ?? reps)) continue;
      const rec = out.get(c.id);
      // A contender that failed twice will fail again: spend the time on the others.
      if (rec.failures.length >= 2) continue;
      try {
        await c.before?.(rep);
        const cmd = await c.command(rep);
        const r = await runTimed(cmd.argv, { ...cmd, scratch });
        const problem = r.code !== 0 ? `exit ${r.code}` : c.check?.(r, rep);
        if (problem) {
          rec.failures.push(`${problem}: ${(r.stderr || r.stdout).trim().slice(-600)}`);
          log?.(`  ${c.id} rep ${rep}: FAILED (${problem})`);
        } else {
          rec.ms.push(r.ms);
          if (r.rssKiB !== undefined) rec.rssKiB.push(r.rssKiB);
          log?.(`  ${c.id} rep ${rep}: ${r.ms.toFixed(0)} ms${r.rssKiB ? `, ${(r.rssKiB / 1024).toFixed(0)} MiB` : ''}`);
        }
      } catch (e) {
        rec.failures.push(String(e?.stack ?? e));
        log?.(`  ${c.id} rep ${rep}: FAILED (${e?.message ?? e})`);
      } finally {
        await c.after?.(rep);
      }
    }
  }
  for (const rec of out.values()) {
    rec.medianMs = median(rec.ms);
    rec.medianRssKiB = median(rec.rssKiB);
  }
  return out;
}
