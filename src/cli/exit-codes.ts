/** Exit codes (docs/cli.md#exit-codes), decided in one place. */
import type { RunStatus } from '../run/events.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  hostsFailed: 2,
  aborted: 3,
  invalid: 4,
  usage: 5,
  sigint: 130,
  sigterm: 143,
} as const;

export function exitCodeForRun(status: RunStatus, signal: 'SIGINT' | 'SIGTERM' | undefined): number {
  switch (status) {
    case 'ok':
      return EXIT.ok;
    case 'failed':
      return EXIT.hostsFailed;
    case 'aborted':
      return EXIT.aborted;
    case 'interrupted':
      return signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }
}
