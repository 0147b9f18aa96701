/**
 * The metrics of exact fleet-wide caps on a real redis-server: leases granted and refused full, the round-trips,
 * and, with the server stopped and started again, the fallbacks to the share and the `active` gauge going 0 then 1.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { translate } from '../../../shared/src/translate/index.js';
import { FakeClock } from '../../../test/support/clock.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { parsePrometheusText, sampleSum } from '../../../test/support/prom-text.js';
import { useRedisClient } from '../../../test/support/redis-client.js';
import { waitFor } from '../../../test/support/wait.js';
import { Observers } from '../call/observers.js';
import { SnapshotStore } from '../config/store.js';
import type { EndpointState } from '../endpoints/state.js';
import { ReplicaLeases } from '../limits/replica-leases.js';
import { governanceMetrics } from './governance-metrics.js';
import { createProxyMetrics } from './metrics.js';

const log = pino({ level: 'silent' });
const file = useRedisClient(log);

const snapshot = (name: string, exact: boolean) =>
  translate(
    parseManifests(
      poolManifests({
        name,
        model: name,
        urls: ['http://10.0.0.1:8000/v1'],
        backendSpec: `  maxConcurrency: 1${exact ? '\n  maxConcurrencyMode: Exact' : ''}\n  healthCheck: { enabled: false }`,
      }),
    ),
  ).config;

/** One proxy's metrics and leases as the server wires them, on a fake clock, serving one Exact backend. */
function proxyOf(name: string) {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const store = new SnapshotStore();
  const metrics = createProxyMetrics(registry, store, clock);
  const observers = new Observers(log);
  observers.add(governanceMetrics(metrics));
  const leases = new ReplicaLeases(file.client, {
    keyPrefix: `${name}:`,
    log,
    clock,
    cooldownMs: 1000,
    onEvent: (backend, event) => observers.emit('onReplicaLease', backend, event),
  });
  metrics.setLeaseSource(() => leases.mode());
  const config = store.apply(snapshot(name, true));
  const replica = store.current?.endpoints.values().next().value as EndpointState;
  const backend = config.backends[0]?.id as string;
  const text = () => registry.metrics();
  const scrape = async () => parsePrometheusText(await text());
  const value = async (metric: string, labels: Record<string, string> = {}) =>
    sampleSum(await scrape(), metric, { backend, ...labels });
  return { clock, store, leases, replica, backend, text, scrape, value };
}

describe('exact lease metrics', () => {
  it('count leases granted and refused full with their round-trips, one active series per Exact backend', async () => {
    const p = proxyOf('ok');
    expect(await p.value('switchyard_exact_mode_active')).toBe(1);
    const lease = await p.leases.acquire(p.replica);
    expect(typeof lease).toBe('string');
    expect(await p.leases.acquire(p.replica)).toEqual({ full: true });
    expect(await p.value('switchyard_exact_leases_total', { result: 'granted' })).toBe(1);
    expect(await p.value('switchyard_exact_leases_total', { result: 'full' })).toBe(1);
    const f = await p.scrape();
    expect(sampleSum(f, 'switchyard_exact_lease_duration_seconds_count', { result: 'granted' })).toBe(1);
    expect(sampleSum(f, 'switchyard_exact_lease_duration_seconds_count', { result: 'full' })).toBe(1);
    expect(sampleSum(f, 'switchyard_exact_lease_fallbacks_total')).toBe(0);
    // Labelled by the backend's id: never the replica's URL, which its Redis key holds.
    expect(f.get('switchyard_exact_leases_total')?.samples.map((x) => x.labels)).toContainEqual({
      backend: p.backend,
      result: 'granted',
    });
    expect(await p.text()).not.toContain('10.0.0.1');
    p.leases.release(p.replica, lease as string);
    // A snapshot without the backend drops its series; a backend in Split mode has no `active` series.
    p.store.apply(snapshot('split', false));
    const after = await p.scrape();
    expect(after.get('switchyard_exact_leases_total')?.samples ?? []).toEqual([]);
    expect(after.get('switchyard_exact_mode_active')?.samples ?? []).toEqual([]);
    p.leases.close();
  });

  it('count fallbacks to the share while Redis is stopped, and show exact mode again once it is back', async () => {
    const p = proxyOf('failover');
    expect(typeof (await p.leases.acquire(p.replica))).toBe('string');
    await file.redis.stop();
    await waitFor(async () => (await p.value('switchyard_exact_mode_active')) === 0, 10_000, 'exact mode off');
    p.leases.withinShare(p.replica);
    expect(await p.value('switchyard_exact_lease_fallbacks_total', { reason: 'down' })).toBe(1);
    expect(await p.leases.acquire(p.replica)).toEqual({ full: false });
    expect(await p.value('switchyard_exact_lease_fallbacks_total', { reason: 'error' })).toBe(1);

    await file.redis.start();
    await waitFor(() => file.client.up, 15_000, 'the client reconnected');
    // Connected, but the failed call above keeps leasing off for the cool-down (on the fake clock).
    expect(p.leases.mode()).toBe('cooldown');
    p.leases.withinShare(p.replica);
    expect(await p.value('switchyard_exact_lease_fallbacks_total', { reason: 'cooldown' })).toBe(1);
    expect(await p.value('switchyard_exact_mode_active')).toBe(0);
    await p.clock.advance(1000);
    expect(await p.value('switchyard_exact_mode_active')).toBe(1);
    // The restarted server lost the lease taken before: the one slot is granted again.
    expect(typeof (await p.leases.acquire(p.replica))).toBe('string');
    expect(await p.value('switchyard_exact_leases_total', { result: 'granted' })).toBe(2);
    expect(await p.value('switchyard_exact_lease_fallbacks_total')).toBe(3);
    p.leases.close();
  });
});
