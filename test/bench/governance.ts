/**
 * Governance benchmark (issue "API keys, tenants, Redis-backed rate limits, response cache, usage and cost").
 * Real redis-server on loopback, everything else in this process.
 *   (1) Stage overhead: the governance stages (auth + RPM/TPM/concurrency limits + cache lookup) run around an
 *       inner stage that answers at once; added latency before the upstream would be called (p50/p99), total
 *       including the settle after the answer, and Redis round-trips per request (counted by the client and
 *       cross-checked with Redis `INFO commandstats`).
 *   (2) HTTP: sequential requests through the proxy to a zero-latency simulator, for a model without a policy
 *       (no governance) vs the governed model (cache miss), and a cache hit.
 * Usage: npm run bench -- governance [--requests N]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { type Call, newCall } from '../../proxy/src/call/call.js';
import { newCallRecord } from '../../proxy/src/call/record.js';
import { clientRequest, KeptSink } from '../../proxy/src/testing/calls.js';
import { backendAndPool, KEYS, KEYS_SECRET, routePolicy } from '../e2e/governance-fixtures.js';
import { startSimulator } from '../sim/index.js';
import { startTestProxy } from '../support/proxy.js';
import { startRedis } from '../support/redis.js';
import { quantile } from './lib.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '5000' } }, allowPositionals: true });
const N = Number(values.requests);

const redis = await startRedis();
const sim = await startSimulator({ flavour: 'vllm', outputTokens: 8 });
const manifests = [
  KEYS_SECRET,
  backendAndPool('plain', 'plain-model', [sim.url]),
  backendAndPool('governed', 'governed-model', [sim.url]),
  routePolicy(
    'governed',
    `  rules: [{ match: { model: { value: governed-model } } }]
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]
      limits: { requestsPerMinute: 100000000, tokensPerMinute: 1000000000 }
      keyLimits: { concurrentRequests: 1000 }
  rateLimits: [{ scope: model, limits: { requestsPerMinute: 100000000 } }]
  cache: { ttl: 10m }`,
  ),
].join('');
const proxy = await startTestProxy(manifests, { redisUrl: redis.url, accessLog: false });
const runtime = proxy.store.current;
if (!runtime) throw new Error('proxy has no configuration');
const monitor = new Redis(redis.url);

const fmt = (v: number) => (v < 1 ? `${Math.round(v * 1000)} µs` : `${v.toFixed(2)} ms`);
const evalshaCalls = async () =>
  Number(/cmdstat_evalsha:calls=(\d+)/.exec(await monitor.info('commandstats'))?.[1] ?? 0);

// (1) Stage overhead, in process.
const body = (i: number) => ({
  model: 'governed-model',
  temperature: 0,
  max_tokens: 8,
  messages: [{ role: 'user', content: `benchmark prompt number ${i}` }],
});
const headers: Record<string, string> = { authorization: `Bearer ${KEYS.teamA}` };
let innerAt = 0;
const run = proxy.governance.stages(async (call) => {
  // Answers at once, as an upstream reporting 12 + 8 tokens would.
  innerAt = performance.now();
  call.record.upstream.attempts = 1;
  call.record.upstream.usage = { inputTokens: 12, outputTokens: 8 };
  call.sink.writeHead(200, { 'content-type': 'application/json' });
  call.sink.end('{"ok":true}');
});
const makeCall = (i: number): Call =>
  newCall({
    record: newCallRecord(`bench-${i}`, Date.now(), 'openai'),
    request: clientRequest('chat', body(i)),
    header: (name) => headers[name],
    sink: new KeptSink(),
    runtime,
  });
for (let i = 0; i < 500; i++) await run(makeCall(-1 - i)); // warm-up (JIT, script cache)
const admit: number[] = [];
const total: number[] = [];
const cmd0 = proxy.governance.stats().redisCommands;
const sha0 = await evalshaCalls();
for (let i = 0; i < N; i++) {
  const call = makeCall(i);
  const t0 = performance.now();
  await run(call);
  const t1 = performance.now();
  admit.push(innerAt - t0);
  total.push(t1 - t0);
}
const commands = (proxy.governance.stats().redisCommands - cmd0) / N;
const scriptUs = /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(
  await monitor.info('commandstats'),
)?.[1];
const evalsha = ((await evalshaCalls()) - sha0) / N;

// Cache hits (stage overhead of a hit: admission + replay, no upstream).
const hits: number[] = [];
for (let i = 0; i < Math.min(N, 2000); i++) {
  const call = makeCall(0);
  const t0 = performance.now();
  await run(call);
  hits.push(performance.now() - t0);
}

// Floor: a bare Redis round-trip from this process.
const pings: number[] = [];
for (let i = 0; i < Math.min(N, 2000); i++) {
  const t0 = performance.now();
  await monitor.ping();
  pings.push(performance.now() - t0);
}

// (2) HTTP, sequential.
async function http(model: string, key: string | undefined, unique: boolean, n: number) {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = { ...body(unique ? 1_000_000 + i : 0), model };
    const t0 = performance.now();
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(b),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    lat.push(performance.now() - t0);
  }
  return lat;
}
const httpN = Math.min(N, 2000);
await http('plain-model', undefined, true, 200);
const plain = await http('plain-model', undefined, true, httpN);
const governed = await http('governed-model', KEYS.teamA, true, httpN);
const hit = await http('governed-model', KEYS.teamA, false, httpN);

const row = (name: string, v: number[]) =>
  `  ${name.padEnd(52)} p50 ${fmt(quantile(v, 0.5)).padStart(9)}   p99 ${fmt(quantile(v, 0.99)).padStart(9)}`;
const load = (await import('node:os')).loadavg()[0]?.toFixed(1);
console.log(`\nGovernance benchmark — ${N} requests, Redis on loopback, sequential, load average ${load}\n`);
console.log('Stage overhead (auth + RPM/TPM/concurrency limits + cache lookup), in process:');
console.log(row('added before the upstream call (admission)', admit));
console.log(row('total incl. settle + cache store after the answer', total));
console.log(row('cache hit served (admission + replay)', hits));
console.log(row('for reference: one bare Redis PING round-trip', pings));
console.log(
  `  Redis round-trips per request: ${commands.toFixed(2)} (1 admission with the cache lookup before the upstream, 1 settle + cache store after the answer)`,
);
console.log(
  `  EVALSHA calls per request seen by Redis: ${evalsha.toFixed(2)}, ${scriptUs} µs per script run inside Redis`,
);
console.log('\nHTTP through the proxy (zero-latency simulator):');
console.log(row('no governance (model without a policy)', plain));
console.log(row('governed, cache miss', governed));
console.log(row('governed, cache hit', hit));
console.log(
  `  added by governance: p50 ${fmt(quantile(governed, 0.5) - quantile(plain, 0.5))}, p99 ${fmt(quantile(governed, 0.99) - quantile(plain, 0.99))}\n`,
);

monitor.disconnect();
await proxy.stop();
await sim.close();
await redis.close();
