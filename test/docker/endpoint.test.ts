import { describe, expect, it } from 'vitest';
import { parseDockerEndpoint } from '../../src/transports/docker/endpoint.js';

describe('parseDockerEndpoint', () => {
  it('defaults to DOCKER_HOST, then the standard socket', () => {
    expect(parseDockerEndpoint(undefined, {})).toEqual({
      ok: true,
      endpoint: { kind: 'unix', socketPath: '/var/run/docker.sock', url: 'unix:///var/run/docker.sock' },
    });
    expect(parseDockerEndpoint(undefined, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toMatchObject({
      ok: true,
      endpoint: { kind: 'unix', socketPath: '/run/user/1000/docker.sock' },
    });
  });

  it('the playbook field wins over DOCKER_HOST', () => {
    expect(parseDockerEndpoint('/tmp/d.sock', { DOCKER_HOST: 'tcp://h:1' })).toMatchObject({
      ok: true,
      endpoint: { kind: 'unix', socketPath: '/tmp/d.sock', url: 'unix:///tmp/d.sock' },
    });
  });

  it('tcp URLs get the docker default ports, 2376 with TLS', () => {
    expect(parseDockerEndpoint('tcp://10.0.0.5:2375', {})).toEqual({
      ok: true,
      endpoint: { kind: 'tcp', host: '10.0.0.5', port: 2375, tls: false, url: 'tcp://10.0.0.5:2375' },
    });
    expect(parseDockerEndpoint('tcp://builder', { DOCKER_TLS_VERIFY: '1' })).toMatchObject({
      ok: true,
      endpoint: { host: 'builder', port: 2376, tls: true },
    });
    expect(parseDockerEndpoint('tcp://[::1]:2375', {})).toMatchObject({ ok: true, endpoint: { host: '::1', port: 2375 } });
  });

  it('refuses what it cannot reach, saying what is accepted', () => {
    for (const bad of ['ssh://me@box', 'npipe:////./pipe/docker_engine', 'unix://relative.sock', 'tcp://h:99999', 'tcp://h:x']) {
      const r = parseDockerEndpoint(bad, {});
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message).toContain(bad);
    }
  });
});
