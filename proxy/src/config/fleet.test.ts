import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import {
  type FleetView,
  fleetShare,
  type ProxyConfig,
  snapshotVersion,
} from '../../../shared/src/proxyconfig/index.js';
import { translate } from '../../../shared/src/translate/index.js';
import { FakeClock } from '../../../test/support/clock.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { waitFor } from '../../../test/support/wait.js';
import { createAdminApp } from '../admin/app.js';
import { localShares } from '../limits/admission.js';
import { LocalLimitStore } from '../limits/local-store.js';
import type { CounterSpec } from '../limits/types.js';
import { compileRuntime } from './runtime.js';
import { SnapshotStore } from './store.js';

const URLS = [1, 2, 3, 4, 5, 6].map((i) => `http://127.0.0.1:${9100 + i}/v1`);
const config = (maxConcurrency: number): ProxyConfig =>
  translate(
    parseManifests(
      poolManifests({ name: 'b', model: 'm', urls: URLS, backendSpec: `  maxConcurrency: ${maxConcurrency}` }),
    ),
  ).config;

/** The snapshot as the operator sends it to one proxy: with its fleet view and the version that covers it. */
function withFleet(c: ProxyConfig, fleet: FleetView): ProxyConfig {
  const out = { ...c, fleet };
  return { ...out, version: snapshotVersion(out) };
}

describe('fleet-wide replica caps', () => {
  it('gives each proxy its share of every replica cap, adding up to the cap over the fleet', () => {
    const c = config(5);
    const caps = [0, 1, 2].map((ordinal) => compileRuntime(c, undefined, { fleet: { proxies: 3, ordinal } }));
    for (const key of caps[0]?.endpoints.keys() ?? []) {
      const shares = caps.map((rt) => rt.endpoints.get(key)?.maxConcurrency as number);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(5);
      expect(shares.every((s) => s === 1 || s === 2)).toBe(true);
    }
    expect(compileRuntime(c).endpoints.values().next().value?.maxConcurrency).toBe(5);
  });

  it("uses the snapshot's fleet view over the standalone one, and follows a rebalance on the same endpoint state", () => {
    const store = new SnapshotStore({ fleet: { proxies: 2, ordinal: 0 } });
    store.apply(config(8));
    const endpoint = store.current?.endpoints.values().next().value;
    expect(endpoint?.maxConcurrency).toBe(4);
    store.apply(withFleet(config(8), { proxies: 4, ordinal: 3 }));
    expect(store.current?.endpoints.values().next().value).toBe(endpoint);
    expect(endpoint?.maxConcurrency).toBe(2);
    expect(store.current?.fleet).toEqual({ proxies: 4, ordinal: 3 });
  });

  it('keeps a replica whose share is 0 out of traffic without queueing for it', () => {
    const rt = compileRuntime(config(1), undefined, { fleet: { proxies: 4, ordinal: 0 } });
    const zero = [...rt.endpoints.values()].filter((e) => e.maxConcurrency === 0);
    expect(zero.length).toBeGreaterThan(0);
    for (const e of zero) {
      expect(e.available(Date.now())).toBe(false);
      expect(e.fullOnly(Date.now())).toBe(false);
    }
  });
});

describe('settling into a smaller share', () => {
  it('answers a push that lowers its share once its requests fit, and says when they do not yet', async () => {
    const store = new SnapshotStore();
    const clock = new FakeClock(0);
    const log = pino({ level: 'silent' });
    const app = createAdminApp({ store, log, pushToken: 't', settleWaitMs: 100, clock });
    const put = async (c: ProxyConfig) =>
      (await (
        await app.request('/config', {
          method: 'PUT',
          body: JSON.stringify(c),
          headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        })
      ).json()) as { settled: boolean };
    expect(await put(config(8))).toMatchObject({ settled: true });
    const endpoint = store.current?.endpoints.values().next().value;
    for (let i = 0; i < 6; i++) endpoint?.acquire(); // 6 in flight under the whole cap of 8
    // The push waits on the clock for its requests to fit in the share of 4: it answers at 100 ms, not before.
    let answered = false;
    const lowered = put(withFleet(config(8), { proxies: 2, ordinal: 0 })).finally(() => {
      answered = true;
    });
    await waitFor(() => clock.pending === 1, 5000, 'the push to wait');
    await clock.advance(99);
    expect(answered).toBe(false);
    await clock.advance(1);
    expect(await lowered).toMatchObject({ settled: false });
    expect(endpoint?.available(clock.now())).toBe(false); // nothing new above the share of 4
    const version = async () => ((await (await app.request('/config/version')).json()) as { settled: boolean }).settled;
    expect(await version()).toBe(false);
    endpoint?.release();
    endpoint?.release();
    expect(await version()).toBe(true);
  });
});

describe('local limits hold the share', () => {
  const counter = (limit: number, kind: CounterSpec['kind'] = 'window'): CounterSpec => ({
    key: `sy:l:ns/p:r0:${kind}`,
    kind,
    metric: kind === 'concurrency' ? 'concurrent' : 'requests',
    scope: 'global',
    subject: 'all requests',
    limit,
    amount: 1,
    param: 60_000,
    skipOnHit: false,
  });

  it('cuts every limit to the proxy share and leaves them whole for a lone proxy', () => {
    const fleet = { proxies: 4, ordinal: 1 };
    const [rpm] = localShares([counter(10)], fleet);
    expect(rpm?.limit).toBe(fleetShare(10, fleet, 'sy:l:ns/p:r0:window'));
    expect(localShares([counter(10)], undefined)[0]?.limit).toBe(10);
  });

  it('admits at most the fleet limit over all proxies when each limits locally', async () => {
    for (const kind of ['window', 'concurrency'] as const) {
      let admitted = 0;
      for (let ordinal = 0; ordinal < 3; ordinal++) {
        const store = new LocalLimitStore();
        const counters = localShares([counter(7, kind)], { proxies: 3, ordinal });
        for (let i = 0; i < 10; i++)
          if ((await store.admit({ member: `${ordinal}-${i}`, counters })).allowed) admitted++;
      }
      expect(admitted, kind).toBe(7);
    }
  });
});
