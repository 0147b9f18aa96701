/**
 * Benchmark: snapshot translation and push for 1,000 LLMBackends × 10 endpoints (from EndpointSlices) to 20 real
 * proxy processes. Prints the time from a change (one replica turning not-ready) to every proxy acknowledging
 * the new snapshot; target < 1 s. Runs the operator's own code path (caches → buildInput → translate → Pusher)
 * without an apiserver: the caches are filled synthetically.
 *
 *   npx tsx test/bench/operator-push.ts [--backends 1000] [--endpoints 10] [--proxies 20] [--changes 8] [--warmup 3]
 *
 * The first rounds warm up the JIT of freshly started proxy processes and are reported but not counted.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildInput } from '../../operator/src/controllers/inputs.js';
import type { EndpointSlice } from '../../operator/src/k8s/objects.js';
import { Pusher } from '../../operator/src/push/pusher.js';
import { startProxyProcess } from '../../operator/src/testing/processes.js';
import { translate } from '../../shared/src/index.js';
import { syntheticCluster } from './synthetic-cluster.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '10' },
    proxies: { type: 'string', default: '20' },
    changes: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
  },
});
const B = Number(values.backends);
const E = Number(values.endpoints);
const P = Number(values.proxies);
const TOKEN = 'bench-token';

const { cache, slices } = syntheticCluster(B, E);

const logDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
const targets: { name: string; url: string }[] = [];
console.log(`starting ${P} proxy processes (logs in ${logDir})…`);
const procs = await Promise.all(
  Array.from({ length: P }, (_, i) =>
    startProxyProcess({ host: '127.0.0.1', token: TOKEN, logDir, name: `proxy-${i}` }),
  ),
);
for (const [i, p] of procs.entries()) targets.push({ name: `proxy-${i}`, url: `http://127.0.0.1:${p.adminPort}` });

const putSeconds: number[] = [];
const pusher = new Pusher({
  token: () => TOKEN,
  timeoutMs: 30_000,
  resyncIntervalMs: 0,
  observer: { pushed: (_result, seconds) => putSeconds.push(seconds * 1000) },
});
pusher.setTargets(targets);

async function round(label: string): Promise<number> {
  const t0 = performance.now();
  const { config } = translate(buildInput(cache).input);
  const tTranslate = performance.now() - t0;
  pusher.setSnapshot(config);
  while (pusher.sync().inSync < P) {
    const failed = pusher.sync().proxies.find((p) => p.lastError);
    if (failed) throw new Error(`${failed.target.name}: ${failed.lastError}`);
    await new Promise((r) => setImmediate(r));
  }
  const total = performance.now() - t0;
  const bytes = JSON.stringify(config).length;
  console.log(
    `${label}: translate ${tTranslate.toFixed(0)} ms, change → all ${P} proxies acked ${total.toFixed(0)} ms ` +
      `(snapshot ${(bytes / 1e6).toFixed(1)} MB, ${config.backends.length} backends, ` +
      `${config.backends.reduce((n, b) => n + b.endpoints.length, 0)} endpoints)`,
  );
  return total;
}

try {
  await round('initial push');
  const times: number[] = [];
  const warmup = Number(values.warmup);
  for (let i = 0; i < warmup + Number(values.changes); i++) {
    // A change: one replica of one backend turns not-ready (as a pod restart would show it).
    const s = slices[(i * 37) % B] as EndpointSlice;
    const ep = s.endpoints?.[i % E];
    if (ep) ep.conditions = { ready: false };
    const ms = await round(i < warmup ? `warm-up ${i + 1}` : `change ${i + 1 - warmup}`);
    if (i < warmup) putSeconds.length = 0;
    else times.push(ms);
  }
  times.sort((a, b) => a - b);
  putSeconds.sort((a, b) => a - b);
  const q = (f: number) => putSeconds[Math.min(putSeconds.length - 1, Math.floor(putSeconds.length * f))]?.toFixed(0);
  console.log(
    `one PUT (proxy parses, validates and swaps the snapshot): p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms`,
  );
  console.log(
    `change → all acked: median ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms, max ${times.at(-1)?.toFixed(0)} ms ` +
      `(target < 1000 ms; ${B} backends × ${E} endpoints, ${P} proxies, PUTs sent ${pusher.puts})`,
  );
} finally {
  pusher.stop();
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
}
