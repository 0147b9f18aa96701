/**
 * Failover benchmark (issue "Replica-aware scheduling"): the real proxy in front of three simulated vLLM
 * replicas, steady closed-loop load; one run without failure, one where a replica is killed halfway through.
 * Prints client-visible errors and the latency added by the failure (p50/p99/max of the whole run and of the
 * second after the kill). Everything runs in this process on 127.0.0.1.
 * Usage: npm run bench -- failover [--seconds N] [--concurrency C] [--ttft MS]
 */
import { parseArgs } from 'node:util';
import { type Simulator, startSimulator } from '../sim/index.js';
import { type LoadResult, runLoad } from '../support/load.js';
import { poolManifests, startTestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import { quantile } from './lib.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '32' },
    ttft: { type: 'string', default: '20' },
  },
  allowPositionals: true,
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const ttftMs = Number(values.ttft);

async function scenario(kill: boolean, runSeconds = seconds): Promise<{ result: LoadResult; killedAt: number }> {
  const sims: Simulator[] = await Promise.all(
    Array.from({ length: 3 }, () => startSimulator({ flavour: 'vllm', models: ['m'], ttftMs, itlMs: 1 })),
  );
  const proxy = await startTestProxy(
    poolManifests({
      model: 'm',
      urls: sims.map((s) => `${s.url}/v1`),
      backendSpec: '  healthCheck: { interval: 1s, timeout: 500ms }',
    }),
    { accessLog: false },
  );
  await waitFor(async () => {
    const r = await fetch(`${proxy.adminUrl}/config/endpoints`);
    return (await r.text()).split('"healthy"').length > 3;
  }, 10_000);
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };
  const load = runLoad({ url: `${proxy.url}/v1/chat/completions`, body, concurrency, durationMs: runSeconds * 1000 });
  let killedAt = 0;
  if (kill) {
    await new Promise((r) => setTimeout(r, (runSeconds * 1000) / 2));
    killedAt = Date.now();
    await sims[2]?.kill();
  }
  const result = await load;
  await proxy.stop();
  await Promise.all(sims.map((s) => s.close()));
  return { result, killedAt };
}

function row(name: string, r: LoadResult, from = 0, to = Number.POSITIVE_INFINITY): string[] {
  const idx = r.finishedAt.flatMap((t, i) => (t >= from && t < to ? [i] : []));
  const lat = idx.map((i) => r.latencies[i] as number);
  const errors = idx.filter((i) => r.statuses[i] !== 200).length;
  return [
    name,
    String(idx.length),
    String(errors),
    quantile(lat, 0.5).toFixed(1),
    quantile(lat, 0.99).toFixed(1),
    Math.max(...lat).toFixed(1),
  ];
}

await scenario(false, 2); // warm-up (JIT), discarded
const base = await scenario(false);
const failed = await scenario(true);
const rows = [
  row('no failure', base.result),
  row('replica killed', failed.result),
  row('  second after kill', failed.result, failed.killedAt, failed.killedAt + 1000),
];
const header = ['run', 'requests', 'errors', 'p50 ms', 'p99 ms', 'max ms'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (c: string[]) =>
  c.map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ');
console.log(`failover: 3 replicas (ttft ${ttftMs} ms), ${concurrency} concurrent clients, ${seconds} s per run`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
const added = (q: number) => (quantile(failed.result.latencies, q) - quantile(base.result.latencies, q)).toFixed(1);
console.log(`added latency from the failure: p50 ${added(0.5)} ms, p99 ${added(0.99)} ms`);
