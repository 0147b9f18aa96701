/**
 * Retry and failover against simulator replicas (docs/resilience.md): a replica killed under load, 429 + Retry-After,
 * no retry of a 400 or after the first streamed byte, the retry budget, attempt headers on errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyOptions } from '../../proxy/src/server.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { FakeClock } from '../support/clock.js';
import { runLoad } from '../support/load.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

interface EndpointView {
  id: string;
  available: boolean;
  health: string;
  ejected: boolean;
}

async function endpoints(proxy: TestProxy): Promise<EndpointView[]> {
  const res = await fetch(`${proxy.adminUrl}/config/endpoints`);
  const body = (await res.json()) as { pools: Array<{ tiers: Array<{ endpoints: EndpointView[] }> }> };
  return body.pools.flatMap((p) => p.tiers.flatMap((t) => t.endpoints));
}

const chatBody = (content = 'hi', extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  max_tokens: 4,
  ...extra,
});

const chat = (proxy: TestProxy, content = 'hi', extra: Record<string, unknown> = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(content, extra)),
  });

/** Starts `n` vLLM simulators. */
const startSims = (n: number) =>
  Promise.all(Array.from({ length: n }, () => startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 2, itlMs: 1 })));

/** A pool of model `m` over `sims` with `poolSpec`; active health checks off unless `backendSpec` says otherwise. */
const simPool = (sims: Simulator[], poolSpec = '', backendSpec = '  healthCheck: { enabled: false }') =>
  poolManifests({ model: 'm', urls: sims.map((s) => `${s.url}/v1`), backendSpec, poolSpec });

/** Clears the faults and counters of `sims` between tests. */
const resetSims = (sims: Simulator[]) => {
  for (const s of sims) {
    s.setFaults(null);
    s.resetStats();
  }
};

/** Stops the proxy, if any, and the simulators. */
const stopAll = async (proxy: TestProxy | undefined, sims: Simulator[]) => {
  await proxy?.stop();
  await Promise.all(sims.map((s) => s.close()));
};

describe('a replica dies under steady load', () => {
  let sims: Simulator[];
  let proxy: TestProxy;
  /** Attempts started per endpoint, counted as the proxy picks (a pick and its onAttemptStart are one step). */
  const attemptsTo = new Map<string, number>();
  /** Attempts an endpoint had got when active checks found it unhealthy, and all attempts then. */
  const attemptsWhenUnhealthy = new Map<string, number>();
  let allWhenUnhealthy = 0;
  const allAttempts = () => [...attemptsTo.values()].reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    sims = await startSims(3);
    proxy = await startTestProxy(
      simPool(
        sims,
        '  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: 500ms }\n  retry: { backoff: { base: 2ms, max: 20ms } }',
        // A dead replica refuses connections at once; the timeout only spares live replicas on a loaded machine
        // (a check answered late is not a failure).
        '  healthCheck: { interval: 250ms, timeout: 5s }',
      ),
      {
        observers: [
          {
            onAttemptStart(_call, member) {
              attemptsTo.set(member.endpoint.id, (attemptsTo.get(member.endpoint.id) ?? 0) + 1);
            },
            onHealthChange(endpoint, _from, to) {
              if (to !== 'unhealthy') return;
              attemptsWhenUnhealthy.set(endpoint.id, attemptsTo.get(endpoint.id) ?? 0);
              allWhenUnhealthy = allAttempts();
            },
          },
        ],
      },
    );
    await waitFor(async () => (await endpoints(proxy)).every((e) => e.health === 'healthy'), 10_000, 'health');
  });
  afterAll(() => stopAll(proxy, sims));

  it('fails no request, and the dead replica stops getting traffic', async () => {
    const load = runLoad({
      url: `${proxy.url}/v1/chat/completions`,
      body: chatBody(),
      concurrency: 64,
      ratePerSecond: 200,
      durationMs: 4000,
    });
    await waitFor(() => sims.every((s) => s.stats().completed > 20), 10_000, 'traffic on every replica');
    const dead = (await endpoints(proxy))[2]?.id ?? '';
    const beforeKill = attemptsTo.get(dead) ?? 0;
    await sims[2]?.kill();
    await waitFor(() => attemptsWhenUnhealthy.has(dead), 10_000, 'active checks to find the dead replica unhealthy');
    const result = await load;
    // 200 requests/s offered for 4 s (open loop: the count is fixed by the test, not by the machine's speed).
    expect(result.statuses).toHaveLength(800);
    const failed = result.statuses.filter((s) => s !== 200);
    expect(failed).toEqual([]);
    // Not one attempt went to it once it was unhealthy, while the other replicas took the rest of the load.
    expect(attemptsTo.get(dead)).toBe(attemptsWhenUnhealthy.get(dead));
    expect(allAttempts() - allWhenUnhealthy).toBeGreaterThan(100);
    // Attempts that found it dead before: about those in flight at the kill plus the failures that ejected it, not
    // its third of the traffic (≈ 250 of the requests after the kill).
    expect((attemptsWhenUnhealthy.get(dead) ?? 0) - beforeKill).toBeLessThanOrEqual(35);
  });

  it('takes the replica back once it answers health checks again', async () => {
    const dead = (await endpoints(proxy))[2]?.id ?? '';
    // Dead and found so by active checks: as the test before leaves it, or killed here when this test runs alone.
    await sims[2]?.kill();
    await waitFor(
      async () => (await endpoints(proxy)).find((e) => e.id === dead)?.health === 'unhealthy',
      10_000,
      'the replica to be found dead',
    );
    await sims[2]?.restart();
    await waitFor(
      async () => (await endpoints(proxy)).find((e) => e.id === dead)?.available === true,
      10_000,
      'the replica to return',
    );
    const before = attemptsTo.get(dead) ?? 0;
    // Sequential requests tie on load, and ties are drawn at random: 40 leave the returned replica out with a
    // probability of (2/3)^40 ≈ 1e-7.
    for (let i = 0; i < 40; i++) expect((await chat(proxy)).status).toBe(200);
    expect(attemptsTo.get(dead) ?? 0).toBeGreaterThan(before);
  });
});

describe('429 with Retry-After', () => {
  let sims: Simulator[];
  let proxy: TestProxy | undefined;

  /** A fresh proxy per test: Retry-After state lives in the endpoints. */
  const startProxy = async (opts: Omit<ProxyOptions, 'configPath'> = {}) => {
    proxy = await startTestProxy(
      simPool(sims, '  scheduling: { strategy: weighted-round-robin }\n  retry: { attempts: 4, maxRetryAfter: 5s }'),
      opts,
    );
    return proxy;
  };

  beforeAll(async () => {
    sims = await startSims(3);
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
    resetSims(sims);
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });

  it('moves traffic to the other replicas while one is limited', async () => {
    const p = await startProxy();
    sims[0]?.setFaults({ status: 429, retryAfter: 30 });
    for (let i = 0; i < 30; i++) expect((await chat(p)).status).toBe(200);
    expect(sims[0]?.stats().requests).toBeLessThanOrEqual(1);
  });

  it('waits for the Retry-After when every replica is limited, and sends nothing before it', async () => {
    // The proxy's clock is driven by the test: the wait is asserted at exact clock instants, without real waiting.
    const clock = new FakeClock();
    let started = 0;
    let ended = 0;
    const observer = { onAttemptStart: () => void started++, onAttemptEnd: () => void ended++ };
    const p = await startProxy({ clock, observers: [observer] });
    for (const s of sims) s.setFaults({ status: 429, retryAfter: 1, count: 1 });
    const answer = chat(p);
    // Three 429s: the proxy now waits on the clock for the soonest Retry-After (scheduled as the third attempt ends).
    await waitFor(() => ended === 3, 10_000, 'three limited attempts');
    expect(started).toBe(3);
    // An attempt starts in the same turn as the timer that allows it fires: counting starts is exact.
    await clock.advance(999);
    expect(started).toBe(3);
    await clock.advance(1);
    expect(started).toBe(4);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-attempts')).toBe('4');
    expect(sims.reduce((n, s) => n + s.requests().length, 0)).toBe(4);
    expect(sims.filter((s) => s.requests().length === 2)).toHaveLength(1);
  });

  it('answers 429 with Retry-After when the limit is longer than maxRetryAfter', async () => {
    const p = await startProxy();
    for (const s of sims) s.setFaults({ status: 429, retryAfter: 30 });
    const res = await chat(p);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(5);
    expect(res.headers.get('x-switchyard-attempts')).toBe('3');
    // Every replica is now blocked: the next request is answered at once, without an upstream request.
    const again = await chat(p);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(5);
    expect(sims.reduce((n, s) => n + s.stats().requests, 0)).toBe(3);
  });
});

describe('what is never retried', () => {
  let sims: Simulator[];
  let proxy: TestProxy;

  beforeAll(async () => {
    sims = await startSims(2);
    proxy = await startTestProxy(simPool(sims));
  });
  afterEach(() => {
    for (const s of sims) s.resetStats();
  });
  afterAll(() => stopAll(proxy, sims));

  const upstreamRequests = () => sims.reduce((n, s) => n + s.stats().requests, 0);

  it('a 400 from upstream', async () => {
    const res = await chat(proxy, 'bad [sim status=400]');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-switchyard-attempts')).toBe('1');
    expect(upstreamRequests()).toBe(1);
  });

  it('a stream cut after the first byte: ends with the error event and no [DONE]', async () => {
    const res = await chat(proxy, 'cut [sim reset-after=2]', { stream: true, max_tokens: 20 });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toContain('"error"');
    expect(text).not.toContain('[DONE]');
    expect(upstreamRequests()).toBe(1);
  });

  it('but a 503 before any byte is retried on the other replica', async () => {
    sims[0]?.setFaults({ status: 503, count: 1 });
    sims[1]?.setFaults({ status: 503, count: 1 });
    const res = await chat(proxy);
    sims[0]?.setFaults(null);
    sims[1]?.setFaults(null);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-attempts')).toBe('3');
  });
});

describe('retry budget', () => {
  let sims: Simulator[];
  let proxy: TestProxy;

  beforeAll(async () => {
    sims = await startSims(3);
    for (const s of sims) s.setFaults({ status: 500 });
    proxy = await startTestProxy(
      simPool(
        sims,
        [
          '  retry: { attempts: 3, backoff: { base: 1ms, max: 1ms }, budget: { ratio: 0.2, minPerSecond: 0 } }',
          '  outlierDetection: { consecutiveFailures: 1000 }',
        ].join('\n'),
      ),
    );
  });
  afterAll(() => stopAll(proxy, sims));

  it('keeps upstream attempts within requests × (1 + ratio) when everything fails', async () => {
    const requests = 100;
    const statuses: number[] = [];
    const attempts: number[] = [];
    for (let batch = 0; batch < requests / 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => chat(proxy)));
      for (const r of answers) {
        statuses.push(r.status);
        attempts.push(Number(r.headers.get('x-switchyard-attempts')));
        await r.text();
      }
    }
    expect(statuses.every((s) => s >= 500)).toBe(true);
    expect(attempts.every((a) => a >= 1)).toBe(true);
    const upstream = sims.reduce((n, s) => n + s.stats().requests, 0);
    expect(upstream).toBeLessThanOrEqual(requests * 1.2);
    expect(upstream).toBeGreaterThan(requests);
  });
});

describe('deadlines', () => {
  let sims: Simulator[];
  let proxy: TestProxy;
  /** The proxy's clock: per-try timeouts and the deadline run out when the test advances it. */
  const clock = new FakeClock();
  let started = 0;
  const upstream = () => sims.reduce((n, s) => n + s.requests().length, 0);

  /** Waits until attempt `n` has reached its (hanging) replica, then lets its per-try timeout of 200 ms run out. */
  async function timeOut(n: number) {
    await waitFor(() => started === n && upstream() === n, 10_000, `attempt ${n} at its replica`);
    await clock.advance(200);
  }

  beforeAll(async () => {
    sims = await startSims(2);
    proxy = await startTestProxy(
      simPool(
        sims,
        [
          '  scheduling: { strategy: weighted-round-robin }',
          '  retry: { attempts: 10, perTryTimeout: 200ms, deadline: 1500ms, backoff: { base: 1ms, max: 1ms } }',
          '  outlierDetection: { consecutiveFailures: 1000 }',
        ].join('\n'),
      ),
      { clock, observers: [{ onAttemptStart: () => void started++ }] },
    );
  });
  afterEach(() => {
    started = 0;
    resetSims(sims);
  });
  afterAll(() => stopAll(proxy, sims));

  it('a hanging attempt ends at the per-try timeout and the request is retried', async () => {
    // Each replica hangs once: the first two attempts hang, the third is answered.
    for (const s of sims) s.setFaults({ hang: true, count: 1 });
    const res = chat(proxy);
    await timeOut(1);
    await timeOut(2);
    expect((await res).status).toBe(200);
    expect((await res).headers.get('x-switchyard-attempts')).toBe('3');
  });

  it('the overall deadline ends the retries with 504', async () => {
    for (const s of sims) s.setFaults({ hang: true });
    const res = chat(proxy);
    // Attempts start at 0, 200, …, 1400 ms of clock time (the last one's try is cut to the 100 ms left); at
    // 1500 ms the deadline has passed: 8 attempts, not the limit of 10.
    for (let n = 1; n <= 8; n++) await timeOut(n);
    expect((await res).status).toBe(504);
    expect((await res).headers.get('x-switchyard-attempts')).toBe('8');
  });
});
