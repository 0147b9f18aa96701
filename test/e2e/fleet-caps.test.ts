/**
 * A replica's maxConcurrency holds for the whole fleet: real proxy processes configured by the operator's pusher
 * (fleet views, two-phase rebalances), clients spread over them, two simulated replicas counting the most requests
 * they ever held at once. The proxies send no replica more than its cap — also while a proxy joins and while one
 * leaves under load — and they do reach it (with per-proxy caps the replicas would see proxies × cap).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pusher } from '../../operator/src/push/pusher.js';
import { type ProxyProc, startProxyProcess } from '../../operator/src/testing/processes.js';
import { parseManifests, translate } from '../../shared/src/index.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { waitFor } from '../support/wait.js';

const CAP = 5;
const TOKEN = 'fleet-token';
let dir: string;
let sims: Simulator[];
let pusher: Pusher;
const procs: ProxyProc[] = [];

/** The pusher's targets: the proxies `from` and after, each named by its own index. */
const targets = (from = 0) =>
  procs.slice(from).map((p, i) => ({ name: `proxy-${from + i}`, url: `http://127.0.0.1:${p.adminPort}` }));
const start = (i: number) =>
  startProxyProcess({ host: '127.0.0.1', token: TOKEN, logDir: dir, name: `proxy-${i}` }).then((p) => {
    procs[i] = p;
    return p;
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-fleet-caps-'));
  // Each request holds its replica ~2 s (longer than a rebalance takes); the replicas have far more slots than the cap, so only the proxies
  // keep them within it.
  sims = await Promise.all(
    [0, 1].map(() => startSimulator({ flavour: 'vllm', models: ['m'], itlMs: 80, outputTokens: 24 })),
  );
  await Promise.all([0, 1, 2].map(start));
  pusher = new Pusher({ token: () => TOKEN, resyncIntervalMs: 0, timeoutMs: 10_000 });
  const { config } = translate(
    parseManifests(
      poolManifests({
        name: 'capped',
        model: 'm',
        urls: sims.map((s) => `${s.url}/v1`),
        backendSpec: `  maxConcurrency: ${CAP}\n  healthCheck: { enabled: false }`,
        poolSpec: '  scheduling: { strategy: least-connections, queue: { maxSize: 1000, timeout: 60s } }',
      }),
    ),
  );
  pusher.setSnapshot(config);
  pusher.setTargets(targets());
  await waitFor(() => pusher.sync().inSync === 3, 30_000, 'three proxies serving');
}, 180_000);

afterAll(async () => {
  pusher?.stop();
  await Promise.all(procs.map((p) => p?.kill()));
  await Promise.all((sims ?? []).map((s) => s.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Keeps `clients` requests going, each to the next proxy of `live()`, until `stop` resolves; returns statuses. */
async function load(clients: number, live: () => ProxyProc[], stop: Promise<unknown>): Promise<number[]> {
  const statuses: number[] = [];
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!done) {
        const ps = live();
        const p = ps[next++ % ps.length] as ProxyProc;
        const res = await fetch(`http://127.0.0.1:${p.port}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `hi ${next}` }] }),
        });
        await res.text();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

const peaks = () => sims.map((s) => s.stats().peakConcurrent);
const completed = () => sims.reduce((n, s) => n + s.stats().completed, 0);
/** Requests the proxy has in flight to the replicas. */
async function inflightOf(p: ProxyProc): Promise<number> {
  const view = (await (await fetch(`http://127.0.0.1:${p.adminPort}/config/endpoints`)).json()) as {
    pools: { tiers: { endpoints: { inflight: number }[] }[] }[];
  };
  return view.pools.flatMap((pool) => pool.tiers.flatMap((t) => t.endpoints)).reduce((n, e) => n + e.inflight, 0);
}
const fleetOf = (p: ProxyProc) => fetch(`http://127.0.0.1:${p.adminPort}/config/version`).then((r) => r.json());

describe('fleet-wide replica caps', () => {
  it('keeps every replica within its cap across three proxies, while a fourth joins and one leaves', async () => {
    for (const s of sims) s.resetStats();
    let live = procs.slice(0, 3);
    const scale = (async () => {
      // Under load for a while, then a fourth proxy joins: it gets its share once the others took their smaller one.
      await waitFor(() => completed() >= 20, 60_000, 'traffic');
      const fourth = await start(3);
      pusher.setTargets(targets());
      // clients use it as soon as it is ready (has a snapshot), as a Service would
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${fourth.adminPort}/readyz`)).status === 200,
        30_000,
        'the fourth proxy ready',
        5,
      );
      live = procs.slice(0, 4);
      await waitFor(() => pusher.sync().inSync === 4, 30_000, 'four proxies serving');
      expect(await fleetOf(fourth)).toMatchObject({ fleet: { proxies: 4, ordinal: 3 } });
      await waitFor(() => completed() >= 45, 60_000, 'traffic on four');
      // proxy-0 shuts down: terminating (no traffic from now on), then gone; only then do the others grow again.
      live = procs.slice(1, 4);
      pusher.setTargets(targets(1), ['proxy-0']);
      await waitFor(() => completed() >= 60, 60_000, 'traffic, one leaving');
      await waitFor(
        async () => (await inflightOf(procs[0] as ProxyProc)) === 0,
        30_000,
        'proxy-0 to finish its requests',
      );
      await procs[0]?.kill('SIGTERM');
      pusher.setTargets(targets(1));
      await waitFor(() => pusher.sync().inSync === 3, 30_000, 'three proxies again');
      await waitFor(() => completed() >= 75, 60_000, 'traffic on three');
    })();
    const statuses = await load(24, () => live, scale);
    await scale;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(peaks()).toEqual(peaks().map((p) => Math.min(p, CAP)));
    // the cap is what bounded them: 24 clients would otherwise put about 12 on each replica
    expect(Math.max(...peaks())).toBe(CAP);
    expect(await fleetOf(procs[1] as ProxyProc)).toMatchObject({ fleet: { proxies: 3, ordinal: 0 } });
  }, 240_000);
});
