/**
 * `chopsticks cleanup --docker [--all]`: remove ephemeral containers on purpose. Without --all,
 * only those a dead run of this machine left (what every run reaps by itself); with --all, every
 * container labelled chopsticks.ephemeral on the engine, including other machines' runs: for an
 * engine whose users agree nothing is running.
 */
import Docker from 'dockerode';
import { dockerodeOptions, parseDockerEndpoint } from '../transports/docker/endpoint.js';
import { reapStaleEphemeral } from '../transports/docker/ephemeral.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';

export async function cleanupDocker(all: boolean, io: Io): Promise<number> {
  const parsed = parseDockerEndpoint(undefined, process.env);
  if (!parsed.ok) {
    io.stderr.write(`chopsticks: cleanup: ${parsed.message}\n`);
    return EXIT.usage;
  }
  const docker = new Docker(dockerodeOptions(parsed.endpoint, process.env));
  let removed: string[];
  try {
    removed = await reapStaleEphemeral(docker, { all });
  } catch (e) {
    io.stderr.write(`chopsticks: cleanup: Docker engine at ${parsed.endpoint.url}: ${(e as Error).message}\n`);
    return EXIT.hostsFailed;
  }
  for (const id of removed) io.stdout.write(`removed ${id.slice(0, 12)}\n`);
  io.stdout.write(
    `${removed.length} ephemeral container${removed.length === 1 ? '' : 's'} removed from ${parsed.endpoint.url}${all ? '' : ' (left by dead runs of this machine; --all removes every one)'}\n`,
  );
  return EXIT.ok;
}
