import { tmpdir } from 'node:os';
import { LocalTransport } from '../../src/transports/local.js';
import { transportContract } from './contract.js';

transportContract('local', () => new LocalTransport({ hostName: 'local-contract' }), {
  remoteDir: tmpdir(),
  hostName: 'local-contract',
});
