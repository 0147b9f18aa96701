import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../../shared/src/proxyconfig/index.js';
import { FakeClock } from '../../../test/support/clock.js';
import { waitFor } from '../../../test/support/wait.js';
import { EndpointState } from '../endpoints/state.js';
import { fakeBackend } from '../scheduling/testing/members.js';
import { HealthChecker } from './checker.js';
import { classifyProbe, probeFor } from './probe.js';
import { applyCheckResult } from './transitions.js';

function endpoint(b: Partial<BackendConfig> = {}, url = 'http://127.0.0.1:1/v1'): EndpointState {
  const backend = { ...fakeBackend(), ...b };
  backend.healthCheck = {
    ...backend.healthCheck,
    enabled: true,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    ...b.healthCheck,
  };
  const ep = { id: 'b/0', url, weight: 1 };
  return new EndpointState(EndpointState.keyOf(backend, ep), backend, ep);
}
const up = { ok: true } as const;
const down = { ok: false, loading: false, reason: 'x' } as const;

describe('health transitions', () => {
  it('the first result decides; later changes need the thresholds', () => {
    const e = endpoint();
    expect(applyCheckResult(e, up, 1)).toBe('unknown');
    expect(e.health).toBe('healthy');
    expect(applyCheckResult(e, down, 2)).toBeUndefined();
    expect(applyCheckResult(e, down, 3)).toBe('healthy');
    expect(e.health).toBe('unhealthy');
    applyCheckResult(e, up, 4);
    expect(e.health).toBe('unhealthy');
    applyCheckResult(e, up, 5);
    expect(e.health).toBe('healthy');
    const fresh = endpoint();
    applyCheckResult(fresh, down, 1);
    expect(fresh.health).toBe('unhealthy');
  });

  it('a loading answer makes a healthy endpoint unhealthy at once', () => {
    const e = endpoint({ provider: 'llamacpp' });
    applyCheckResult(e, up, 1);
    applyCheckResult(e, classifyProbe(e, 503), 2);
    expect(e.health).toBe('unhealthy');
  });

  it('lets an ejected endpoint return only after its ejection time', () => {
    const e = endpoint();
    e.ejectedUntil = 100;
    e.awaitingHealthCheck = true;
    applyCheckResult(e, up, 50);
    expect(e.awaitingHealthCheck).toBe(true);
    applyCheckResult(e, up, 100);
    expect(e.awaitingHealthCheck).toBe(false);
    expect(e.available(100)).toBe(true);
  });
});

describe('health probes', () => {
  it('uses the configured path, or an authenticated models list', () => {
    expect(probeFor(endpoint({ healthCheck: { ...fakeBackend().healthCheck, path: '/health' } })).path).toBe('/health');
    const vendor = probeFor(endpoint({ provider: 'openai', apiKey: 'sk-test' }));
    expect(vendor).toMatchObject({ path: '/v1/models', headers: { authorization: 'Bearer sk-test' } });
    const anthropic = probeFor(endpoint({ provider: 'anthropic', apiKey: 'k' }, 'https://api.example.com/v1'));
    expect(anthropic).toMatchObject({ path: '/v1/models', headers: { 'x-api-key': 'k' } });
    expect(classifyProbe(endpoint({ provider: 'openai' }), 429).ok).toBe(true);
  });
});

describe('HealthChecker', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('checks at once and on every interval, and follows snapshot swaps', async () => {
    const clock = new FakeClock(0);
    let status = 200;
    const seen: Array<[string, number]> = [];
    server = createServer((req, res) => {
      seen.push([req.url ?? '', clock.now()]);
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const e = endpoint(
      {
        healthCheck: {
          ...fakeBackend().healthCheck,
          enabled: true,
          path: '/health',
          intervalMs: 20,
          unhealthyThreshold: 1,
        },
      },
      `http://127.0.0.1:${port}/v1`,
    );
    // Jitter in the middle of its ±10% range: every interval is exactly 20 ms of clock time.
    const checker = new HealthChecker({ log: pino({ level: 'silent' }), clock, random: () => 0.5 });
    checker.sync(new Set([e]));
    await clock.advance(0);
    await waitFor(() => e.health === 'healthy', 5000, 'the first check');
    status = 503;
    await waitFor(() => clock.nextIn() === 20, 5000, 'the next check to be scheduled');
    await clock.advance(20);
    await waitFor(() => e.health === 'unhealthy', 5000, 'the second check');
    expect(seen).toEqual([
      ['/health', 0],
      ['/health', 20],
    ]);
    checker.sync(new Set());
    expect(e.health).toBe('unknown');
    expect(e.activelyChecked).toBe(false);
    expect(clock.pending).toBe(0);
    await checker.stop();
  });
});
