/**
 * Integration suites talk to real servers (OpenSSH sshd, a Docker engine). On a developer
 * machine without them the suite is skipped *loudly*; in CI (CHOPSTICKS_REQUIRE_INTEGRATION=1,
 * set by .ci/run) a missing server fails the run instead, so a skipped suite can never pass CI.
 */
import { describe, it } from 'vitest';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const REQUIRE_INTEGRATION = process.env.CHOPSTICKS_REQUIRE_INTEGRATION === '1';

/** File the skip reporter reads at the end of the run to print what was skipped. */
export const SKIP_LOG = join(tmpdir(), `chopsticks-skips-${process.env.CHOPSTICKS_TEST_RUN ?? 'dev'}.log`);

/**
 * `describe` when `reason` is undefined (the server is there); otherwise a skipped suite
 * that records why, or, in CI, a failing test that says what is missing.
 */
export function describeIntegration(name: string, reason: string | undefined, fn: () => void): void {
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  if (REQUIRE_INTEGRATION) {
    describe(name, () => {
      it('has its server', () => {
        throw new Error(`${name}: required integration suite cannot run: ${reason}`);
      });
    });
    return;
  }
  mkdirSync(tmpdir(), { recursive: true });
  appendFileSync(SKIP_LOG, `${name}: ${reason}\n`);
  describe.skip(`${name} (SKIPPED: ${reason})`, fn);
}
