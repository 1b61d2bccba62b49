import { afterAll } from 'vitest';
import { createDockerTransport } from '../../src/transports/docker/index.js';
import { transportContract } from '../transports/contract.js';
import { describeIntegration } from '../support/integration.js';
import { dockerHost, dockerUnavailableReason, ensureTestImage, removeAllTestContainers, startTestContainer } from '../support/docker.js';

const reason = await dockerUnavailableReason();
const CONTAINER = `chopsticks-test-contract-${process.pid}`;

describeIntegration('docker transport contract', reason, () => {
  afterAll(async () => {
    await removeAllTestContainers();
  });

  // An existing container, as `docker://NAME` gives.
  transportContract(
    'docker (existing busybox container)',
    async () => {
      await startTestContainerOnce();
      return createDockerTransport(dockerHost('docker-contract', { container: CONTAINER }), { runId: `c${process.pid}` });
    },
    { remoteDir: '/tmp', hostName: 'docker-contract' },
  );

  // Ephemeral containers are not run through the contract: it opens a second transport and
  // expects the first one's files there, and each ephemeral transport is its own fresh
  // container. transport.test.ts runs a session over an ephemeral container instead.
});

let started: Promise<unknown> | undefined;
function startTestContainerOnce(): Promise<unknown> {
  started ??= ensureTestImage().then(() => startTestContainer(CONTAINER));
  return started;
}
