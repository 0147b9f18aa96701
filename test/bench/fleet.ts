/**
 * Large-fleet benchmark (`npm run bench -- fleet`): N proxy processes × M simulated vLLM replicas (default 16 × 256)
 * configured by the operator's pusher (fleet views), everything on loopback. Prints:
 * 1. prefix-cache hit rate of the replicas (KV-cache model on) for the same multi-turn workload through 1, 4 and N
 *    proxies (each request to a random proxy, as a Service spreads them), `llm-aware` scheduling, fresh replicas
 *    per run; the rate relative to the single proxy; proxy CPU per request (whole process, from /proc) and the
 *    llm-aware pick alone at M replicas (in process);
 * 2. cap violations: a burst of 1.5 × the capacity through the N proxies at 16 replicas with `maxConcurrency`
 *    16 (each proxy's share is 16 / N): the most requests any replica held at once (must be ≤ 16), in Split mode and,
 *    when redis-server is installed, in Exact mode;
 * 3. a CR change (one replica leaving the LLMBackend) → every one of the N proxies serving it;
 * 4. delivery at fleet size: a snapshot of 5,000 endpoints (500 LLMBackends × 10 replicas from EndpointSlices) pushed
 *    to 100 proxies (10 processes of 10 proxies each: 100 tsx start-ups would take minutes on a 2-core machine), first push
 *    and change → all 100 acknowledged.
 * Bounded: every phase has a fixed request count or duration; child processes are killed on exit. Only prints.
 *
 *   npm run bench -- fleet [--proxies 16] [--replicas 256] [--rate 40] [--seconds 30] [--push-proxies 100]
 *                          [--push-backends 500] [--push-endpoints 10] [--push-changes 3] [--main-cap N]
 *                          [--phases hit,caps,change,push]
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildInput } from '../../operator/src/controllers/inputs.js';
import type { EndpointSlice } from '../../operator/src/k8s/objects.js';
import { Pusher } from '../../operator/src/push/pusher.js';
import { parseManifests, translate } from '../../shared/src/index.js';
import { redisServerAvailable, startRedis } from '../support/redis.js';
import { quantile, serveSimulators, serveUntilTerminated, simStats, spawnJsonChild } from './lib.js';
import { runWorkload, type WorkloadShape } from './llm-aware-workload.js';
import { llmAwarePickCost } from './pick-cost.js';
import { syntheticCluster } from './synthetic-cluster.js';

const TOKEN = 'fleet-bench-token';
/** Replica: 32 slots, 2,048 tokens of KV cache, 0.05 ms prefill per uncached prompt token. */
const SIM = {
  flavour: 'vllm' as const,
  models: ['bench-model', 'capped-model'],
  maxConcurrency: 32,
  kvBlocks: 128,
  blockSize: 16,
  prefillMsPerToken: 0.05,
  itlMs: 2,
  ttftMs: 0,
  outputTokens: 8,
  recordLimit: 0,
};
const SHAPE: WorkloadShape = {
  groups: 16,
  systemTokens: 200,
  questionTokens: 30,
  answerTokens: 8,
  turnsPerConversation: 6,
  users: 256,
};
const CAP = 16;
/** Replicas of the capped pool (the first ones; fewer when the benchmark runs with fewer replicas). */
const CAPPED = 16;

// Child modes: serve simulators or proxies and print where they listen as one JSON line.
if (process.argv[2] === '--serve-sims') await serveSimulators(Number(process.argv[3]), SIM);
if (process.argv[2] === '--serve-proxies') {
  const { startProxy } = await import('../../proxy/src/server.js');
  const redisUrl = process.argv[4] || undefined;
  const proxies = [];
  for (let i = 0; i < Number(process.argv[3]); i++)
    proxies.push(
      await startProxy({
        host: '127.0.0.1',
        port: 0,
        adminPort: 0,
        pushToken: TOKEN,
        accessLog: false,
        log: pino({ level: 'silent' }),
        ...(redisUrl ? { redisUrl } : {}),
      }),
    );
  await serveUntilTerminated(proxies.map((p) => ({ url: p.url, admin: p.adminUrl })));
}

const { values } = parseArgs({
  options: {
    proxies: { type: 'string', default: '16' },
    replicas: { type: 'string', default: '256' },
    rate: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '30' },
    seed: { type: 'string', default: '7' },
    'push-proxies': { type: 'string', default: '100' },
    'push-backends': { type: 'string', default: '500' },
    'push-endpoints': { type: 'string', default: '10' },
    'push-changes': { type: 'string', default: '3' },
    phases: { type: 'string', default: 'hit,caps,change,push' },
    'main-cap': { type: 'string', default: '0' },
  },
});
const P = Number(values.proxies);
const M = Number(values.replicas);
const CAPPED_REPLICAS = Math.min(CAPPED, M);
const phases = new Set((values.phases ?? '').split(','));
const self = fileURLToPath(import.meta.url);
/** Starts a child of this script in a child mode and returns what it printed. */
async function child<T>(...args: string[]): Promise<{ proc: ChildProcess; out: T }> {
  const { child: proc, out } = await spawnJsonChild<T>(self, args);
  return { proc, out };
}
const stop = (proc: ChildProcess) => proc.kill('SIGKILL');

interface ProxyAt {
  url: string;
  admin: string;
}
/** `count` proxies in processes of `perProcess` each. */
async function startProxies(count: number, perProcess: number, redisUrl = '') {
  const hosts = await Promise.all(
    Array.from({ length: Math.ceil(count / perProcess) }, (_, h) =>
      child<ProxyAt[]>('--serve-proxies', String(Math.min(perProcess, count - h * perProcess)), redisUrl),
    ),
  );
  return { procs: hosts.map((h) => h.proc), proxies: hosts.flatMap((h) => h.out) };
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function manifests(urls: string[], mode: 'Split' | 'Exact' = 'Split'): string {
  const mainCap = Number(values['main-cap']);
  const list = (us: string[]) => `[${us.map((u) => `{ url: "${u}/v1" }`).join(', ')}]`;
  const off = '  healthCheck: { enabled: false }\n  metrics: { enabled: false }';
  return `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: fleet }
spec:
  provider: vllm
  endpoints: ${list(urls)}
  models: [{ name: bench-model }]
${mainCap ? `  maxConcurrency: ${mainCap}\n` : ''}${off}
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: bench }
spec:
  model: bench-model
  backendRefs: [{ name: fleet }]
  scheduling: { strategy: llm-aware, queue: { maxSize: 1000, timeout: 60s } }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: capped }
spec:
  provider: vllm
  endpoints: ${list(urls.slice(0, CAPPED_REPLICAS))}
  models: [{ name: capped-model }]
  maxConcurrency: ${CAP}
  maxConcurrencyMode: ${mode}
${off}
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: capped }
spec:
  model: capped-model
  backendRefs: [{ name: capped }]
  scheduling: { strategy: least-connections, queue: { maxSize: 2000, timeout: 120s } }
`;
}

/** Delivers `text` (manifests) to the pusher's proxies; resolves with the ms until all `n` serve their view of it. */
async function deliver(pusher: Pusher, text: string, n: number): Promise<number> {
  const t0 = performance.now();
  pusher.setSnapshot(translate(parseManifests(text)).config);
  const deadline = Date.now() + 120_000;
  while (pusher.sync().inSync < n || pusher.sync().total !== n) {
    if (Date.now() > deadline) throw new Error(`only ${pusher.sync().inSync} of ${n} proxies serve the snapshot`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (x: number | undefined) => `${(x ?? Number.NaN).toFixed(0)} ms`;
console.log(
  `fleet benchmark: ${P} proxy processes × ${M} simulated vLLM replicas, loopback (node ${process.version}, ` +
    `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
);

const fleet = phases.has('hit') || phases.has('caps') || phases.has('change') ? await startProxies(P, 1) : undefined;
const pusher = new Pusher({ token: () => TOKEN, timeoutMs: 30_000, resyncIntervalMs: 0 });
const targets = (fleet?.proxies ?? []).map((p, i) => ({ name: `proxy-${String(i).padStart(3, '0')}`, url: p.admin }));

/**
 * Warms the JIT of every proxy (fresh processes are several times slower for their first requests: the open-loop
 * workload would queue behind them) with 200 short unique prompts each, then resets the replicas' counters: one
 * prompt block each stays in the replicas' caches, the first evicted.
 */
async function warmUp(proxies: ProxyAt[], urls: string[]): Promise<void> {
  for (let round = 0; round < 20; round++)
    await Promise.all(
      proxies.flatMap((p) =>
        Array.from({ length: 10 }, async (_, i) => {
          const res = await fetch(`${p.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'bench-model',
              messages: [{ role: 'user', content: `warm ${round} ${i}` }],
            }),
          });
          await res.arrayBuffer();
        }),
      ),
    );
  await Promise.all(urls.map((u) => fetch(`${u}/_sim/reset`, { method: 'POST' })));
}

// 1. Prefix-cache hit rate through 1, 4 and N proxies; proxy CPU per request.
let lastSims: { proc: ChildProcess; out: string[] } | undefined;
if (phases.has('hit') && fleet) {
  const rows: Array<{ n: number; hit: number; requests: number; failed: number; cpuMs: number; p50: number }> = [];
  for (const n of [...new Set([1, 4, P])].filter((k) => k <= P)) {
    const sims = await child<string[]>('--serve-sims', String(M));
    pusher.setTargets(targets.slice(0, n));
    await deliver(pusher, manifests(sims.out), n);
    await warmUp(fleet.proxies.slice(0, n), sims.out);
    const live = fleet.procs.slice(0, n);
    const cpu0 = live.map((p) => cpuSeconds(p.pid));
    const results = await runWorkload({
      baseUrl: fleet.proxies.slice(0, n).map((p) => p.url),
      model: 'bench-model',
      shape: SHAPE,
      rate: Number(values.rate),
      durationMs: Number(values.seconds) * 1000,
      drainMs: 15_000,
      seed: Number(values.seed),
    });
    const cpu = live.reduce((s, p, i) => s + cpuSeconds(p.pid) - (cpu0[i] ?? 0), 0);
    const stats = await simStats(sims.out);
    const hits = stats.reduce((s, x) => s + x.prefixCacheHits, 0);
    const queries = stats.reduce((s, x) => s + x.prefixCacheQueries, 0);
    const ok = results.filter((r) => !r.failed && r.doneAt !== undefined);
    const errors = new Map<string, number>();
    for (const r of results) if (r.error) errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
    if (errors.size > 0)
      console.error(`${n} proxies, failures: ${[...errors].map(([e, k]) => `${k}× ${e}`).join('; ')}`);
    rows.push({
      n,
      hit: queries > 0 ? hits / queries : 0,
      requests: results.length,
      failed: results.length - ok.length,
      cpuMs: (cpu * 1000) / Math.max(1, ok.length),
      p50: quantile(
        ok.map((r) => r.ttftMs ?? 0),
        0.5,
      ),
    });
    if (lastSims) stop(lastSims.proc);
    lastSims = sims;
  }
  const base = rows[0]?.hit ?? 0;
  console.log(
    `\n1. prefix-cache hit rate, ${SHAPE.users} users in ${SHAPE.turnsPerConversation}-turn conversations over ` +
      `${SHAPE.groups} system prompts, ${values.rate} req/s for ${values.seconds} s, llm-aware, each request to a random proxy`,
  );
  console.log('proxies  requests  failed  prefix hit  vs 1 proxy  TTFT p50  proxy CPU/request');
  for (const r of rows)
    console.log(
      `${String(r.n).padStart(7)}  ${String(r.requests).padStart(8)}  ${String(r.failed).padStart(6)}  ` +
        `${pct(r.hit).padStart(10)}  ${pct(base > 0 ? r.hit / base : 0).padStart(10)}  ${ms(r.p50).padStart(8)}  ` +
        `${r.cpuMs.toFixed(2).padStart(14)} ms`,
    );
  const prompt = (i: number) => `${'system prompt words '.repeat(60)}<|user|>${`user ${i % 256} asks. `.repeat(20)}`;
  console.log(`llm-aware pick alone at ${M} replicas (in process): ${llmAwarePickCost(M, 5000, prompt).toFixed(1)} µs`);
}

// 2. Cap violations under a burst of 1.5 × the capacity of the capped replicas, Split and (with Redis) Exact.
async function burst(proxies: ProxyAt[], urls: string[]): Promise<{ peaks: number[]; statuses: Map<number, number> }> {
  const capped = urls.slice(0, CAPPED_REPLICAS);
  await Promise.all(
    capped.map(async (u) => {
      await fetch(`${u}/_sim/timing`, { method: 'POST', body: JSON.stringify({ ttftMs: 1000 }) });
      await fetch(`${u}/_sim/reset`, { method: 'POST' });
    }),
  );
  const clients = Math.ceil(CAPPED_REPLICAS * CAP * 1.5);
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let k = 0; k < 3; k++) {
        const p = proxies[(c + k) % proxies.length] as ProxyAt;
        const res = await fetch(`${p.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'capped-model', messages: [{ role: 'user', content: `burst ${c} ${k}` }] }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const peaks = (await simStats(capped)).map((s) => s.peakConcurrent);
  await Promise.all(
    capped.map((u) => fetch(`${u}/_sim/timing`, { method: 'POST', body: JSON.stringify({ ttftMs: SIM.ttftMs }) })),
  );
  return { peaks, statuses };
}
const capLine = (label: string, r: { peaks: number[]; statuses: Map<number, number> }) =>
  `${label}: most in flight at one replica ${Math.max(...r.peaks)} (cap ${CAP}), violations ` +
  `${r.peaks.filter((p) => p > CAP).length} of ${r.peaks.length} replicas; answers ${[...r.statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}`;

if (phases.has('caps') && fleet) {
  lastSims ??= await child<string[]>('--serve-sims', String(M));
  pusher.setTargets(targets);
  await deliver(pusher, manifests(lastSims.out), P);
  console.log(
    `\n2. caps: ${CAPPED_REPLICAS} replicas with maxConcurrency ${CAP} (each proxy's share ${CAP}/${P}), ` +
      `${Math.ceil(CAPPED_REPLICAS * CAP * 1.5)} clients × 3 requests of ~1 s through ${P} proxies`,
  );
  console.log(capLine('Split', await burst(fleet.proxies, lastSims.out)));
  if (redisServerAvailable()) {
    const redis = await startRedis();
    const exact = await startProxies(P, 1, redis.url);
    const exactPusher = new Pusher({ token: () => TOKEN, timeoutMs: 30_000, resyncIntervalMs: 0 });
    exactPusher.setTargets(
      exact.proxies.map((p, i) => ({ name: `exact-${String(i).padStart(3, '0')}`, url: p.admin })),
    );
    await deliver(exactPusher, manifests(lastSims.out, 'Exact'), P);
    console.log(capLine('Exact (leases in one Redis)', await burst(exact.proxies, lastSims.out)));
    exactPusher.stop();
    for (const p of exact.procs) stop(p);
    await redis.close();
  } else console.log('Exact: skipped (no redis-server; `apt-get install redis-server`)');
}

// 3. A CR change → every proxy serving it.
if (phases.has('change') && fleet) {
  lastSims ??= await child<string[]>('--serve-sims', String(M));
  pusher.setTargets(targets);
  await deliver(pusher, manifests(lastSims.out), P);
  const times: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const urls = lastSims.out.filter((_, k) => k !== i); // one replica left the LLMBackend
    const t = await deliver(pusher, manifests(urls), P);
    if (i > 2) times.push(t); // the first changes warm up the proxies' JIT
  }
  times.sort((a, b) => a - b);
  console.log(
    `\n3. CR change (one of ${M} replicas leaves) → all ${P} proxies serving it: median ${ms(quantile(times, 0.5))}, ` +
      `max ${ms(times.at(-1))} (${times.length} changes)`,
  );
}
pusher.stop();
if (lastSims) stop(lastSims.proc);
for (const p of fleet?.procs ?? []) stop(p);

// 4. Delivery of a 5,000-endpoint snapshot to 100 proxies.
if (phases.has('push')) {
  const n = Number(values['push-proxies']);
  const { cache, slices } = syntheticCluster(Number(values['push-backends']), Number(values['push-endpoints']));
  const started = performance.now();
  const hosts = await startProxies(n, 10);
  const startMs = performance.now() - started;
  const puts: number[] = [];
  const p = new Pusher({
    token: () => TOKEN,
    timeoutMs: 60_000,
    resyncIntervalMs: 0,
    observer: { pushed: (_r, seconds) => puts.push(seconds * 1000) },
  });
  p.setTargets(hosts.proxies.map((x, i) => ({ name: `push-${String(i).padStart(3, '0')}`, url: x.admin })));
  const round = async () => {
    const t0 = performance.now();
    const { config } = translate(buildInput(cache).input);
    const translated = performance.now() - t0;
    p.setSnapshot(config);
    const deadline = Date.now() + 600_000;
    while (p.sync().inSync < n) {
      if (hosts.procs.some((h) => h.exitCode !== null)) throw new Error('a proxy process exited');
      if (Date.now() > deadline) throw new Error(`only ${p.sync().inSync} of ${n} proxies serve the snapshot`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return { translated, total: performance.now() - t0, config };
  };
  const first = await round();
  const endpoints = first.config.backends.reduce((s, b) => s + b.endpoints.length, 0);
  const bytes = Buffer.byteLength(JSON.stringify(first.config));
  const changes: number[] = [];
  puts.length = 0;
  const measured = Number(values['push-changes']);
  for (let i = 0; i < measured + 1; i++) {
    const ep = (slices[(i * 37) % slices.length] as EndpointSlice).endpoints?.[i % 10];
    if (ep) ep.conditions = { ready: false };
    const r = await round();
    if (i >= 1)
      changes.push(r.total); // the first change warms up the proxies' JIT
    else puts.length = 0;
  }
  changes.sort((a, b) => a - b);
  puts.sort((a, b) => a - b);
  console.log(
    `\n4. delivery: ${endpoints} endpoints (${(bytes / 1e6).toFixed(1)} MB of JSON, gzip-compressed once per snapshot) to ` +
      `${n} proxies (${hosts.procs.length} processes of 10, started in ${ms(startMs)}), at most 16 PUTs in flight`,
  );
  console.log(
    `first push → all ${n} serving: ${ms(first.total)} (translate ${ms(first.translated)}); ` +
      `change → all ${n} serving: median ${ms(quantile(changes, 0.5))}, max ${ms(changes.at(-1))} (${changes.length} changes); ` +
      `one PUT (parse, validate, compile, swap): p50 ${ms(quantile(puts, 0.5))}, p90 ${ms(quantile(puts, 0.9))}`,
  );
  p.stop();
  for (const h of hosts.procs) stop(h);
}
process.exit(0);
