/** Prints, after the summary, every integration suite that was skipped and why. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Reporter } from 'vitest/reporters';
import { SKIP_LOG } from './integration.js';

export default class SkipReporter implements Reporter {
  onInit(): void {
    rmSync(SKIP_LOG, { force: true });
  }
  onTestRunEnd(): void {
    if (!existsSync(SKIP_LOG)) return;
    const lines = [...new Set(readFileSync(SKIP_LOG, 'utf8').split('\n').filter(Boolean))];
    if (lines.length === 0) return;
    const bar = '!'.repeat(72);
    process.stdout.write(`\n${bar}\nINTEGRATION SUITES SKIPPED (no server on this machine):\n`);
    for (const l of lines) process.stdout.write(`  - ${l}\n`);
    process.stdout.write(`CI runs them with CHOPSTICKS_REQUIRE_INTEGRATION=1 (see .ci/run).\n${bar}\n`);
  }
}
