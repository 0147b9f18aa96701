/**
 * Guardrails and usage-ledger benchmark: what they add per request, against a same-run baseline. One zero-latency
 * simulator, the external-guardrail stand-in and a real PostgreSQL on loopback; two proxies in this process from the
 * same manifests, one writing the usage ledger. Rounds alternate between the variants so load drifts hit all alike.
 *   (1) the local detector in process: µs per check of a 1 KiB and a 16 KiB text (all five kinds);
 *   (2) HTTP, sequential, non-streamed chat with a ~1 KiB prompt: no guardrail vs the local detector on the request
 *       (masking an email), on the request and the answer, and the external stand-in on the request;
 *   (3) HTTP, streamed (64 tokens, 2 ms apart): time to the first answer text and to the end, no guardrail vs a
 *       response-side local guardrail (window 128 characters: the first text waits for ~128 characters);
 *   (4) the ledger: the same plain request through the proxy with and without a ledger, sequential and 32 at a time
 *       (throughput), and the entries written.
 * Usage: npm run bench -- guardrails [--requests N] [--rounds R]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DETECTOR_KINDS, detect } from '../../proxy/src/guardrails/detect/index.js';
import { backendAndPool, routePolicy } from '../e2e/governance-fixtures.js';
import { startGuardrailService } from '../sim/guardrail.js';
import { startSimulator } from '../sim/index.js';
import { startPostgres } from '../support/postgres.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import { quantile } from './lib.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '4' } },
  allowPositionals: true,
});
const N = Number(values.requests);
const ROUNDS = Number(values.rounds);
const per = Math.max(1, Math.floor(N / ROUNDS));

const [sim, streamSim, svc, db] = await Promise.all([
  startSimulator({ flavour: 'vllm', outputTokens: 64, maxConcurrency: 1024 }),
  startSimulator({ flavour: 'vllm', outputTokens: 64, itlMs: 2, maxConcurrency: 1024 }),
  startGuardrailService(),
  startPostgres(),
]);
const manifests = [
  backendAndPool('plain', 'plain-model', [sim.url]),
  backendAndPool('local', 'local-model', [sim.url]),
  backendAndPool('both', 'both-model', [sim.url]),
  backendAndPool('streamed', 'streamed-model', [streamSim.url]),
  backendAndPool('answer', 'answer-model', [streamSim.url]),
  backendAndPool('ext', 'ext-model', [sim.url]),
  routePolicy(
    'bench',
    `  guardrails:
    - { name: pii, phases: [request], local: { mask: [email, phone], deny: [card, iban, secret] } }
    - { name: pii-both, local: { mask: [email, phone], deny: [card, iban, secret] } }
    - { name: answers, phases: [response], local: { mask: [email, phone], deny: [card, iban, secret] } }
    - { name: ext, phases: [request], external: { url: "${svc.url}", timeout: 2s, maxConcurrency: 64 } }
  rules:
    - { match: { model: { value: local-model } }, guardrails: [pii] }
    - { match: { model: { value: both-model } }, guardrails: [pii-both] }
    - { match: { model: { value: answer-model } }, guardrails: [answers] }
    - { match: { model: { value: ext-model } }, guardrails: [ext] }`,
  ),
].join('');
const [plainProxy, ledgerProxy] = await Promise.all([
  startTestProxy(manifests, { accessLog: false }),
  startTestProxy(manifests, { accessLog: false, ledger: { url: db.url } }),
]);

const WORDS = 'the quarterly report shows steady growth across regions and the team expects further gains next year';
const PROMPT = `${`${WORDS} `.repeat(9)}please reply to jane.doe@example.com when ready`; // ~1 KiB, one email

const fmt = (ms: number) => (ms < 1 ? `${Math.round(ms * 1000)} µs` : `${ms.toFixed(2)} ms`);

// (1) The detector in process.
const ALL = new Set(DETECTOR_KINDS);
const big = `${PROMPT} `.repeat(16);
function detectorUs(text: string, n: number): number {
  for (let i = 0; i < 200; i++) detect(text, ALL);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) detect(text, ALL);
  return ((performance.now() - t0) / n) * 1000;
}
const small = detectorUs(PROMPT, 5000);
const large = detectorUs(big, 500);

// (2)-(4) HTTP.
const TEXT = /"content":"[^"]/;
const decoder = new TextDecoder();

/** One request; `ttfb`: when the first answer text arrived (a non-empty content delta, or the whole answer). */
async function once(p: TestProxy, model: string, stream: boolean): Promise<{ ttfb: number; total: number }> {
  const t0 = performance.now();
  const res = await fetch(`${p.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: PROMPT }] }),
  });
  const reader = res.body?.getReader();
  let ttfb = -1;
  for (;;) {
    const r = await reader?.read();
    if (!r || r.done) break;
    if (ttfb < 0 && TEXT.test(decoder.decode(r.value))) ttfb = performance.now() - t0;
  }
  if (res.status !== 200) throw new Error(`${model}: HTTP ${res.status}`);
  return { ttfb, total: performance.now() - t0 };
}

type Variant = { name: string; proxy: TestProxy; model: string; stream: boolean };
const variants: Variant[] = [
  { name: 'no guardrail', proxy: plainProxy, model: 'plain-model', stream: false },
  { name: 'local detector on the request (masks an email)', proxy: plainProxy, model: 'local-model', stream: false },
  { name: 'local detector on the request and the answer', proxy: plainProxy, model: 'both-model', stream: false },
  { name: 'external stand-in on the request', proxy: plainProxy, model: 'ext-model', stream: false },
  { name: 'streamed: no guardrail', proxy: plainProxy, model: 'streamed-model', stream: true },
  { name: 'streamed: local detector on the answer', proxy: plainProxy, model: 'answer-model', stream: true },
  { name: 'ledger off (plain proxy)', proxy: plainProxy, model: 'plain-model', stream: false },
  { name: 'ledger on', proxy: ledgerProxy, model: 'plain-model', stream: false },
];
const results = new Map<string, { ttfb: number[]; total: number[] }>(
  variants.map((v) => [v.name, { ttfb: [], total: [] }]),
);
for (const v of variants) for (let i = 0; i < 100; i++) await once(v.proxy, v.model, v.stream); // warm-up
for (let r = 0; r < ROUNDS; r++)
  for (const v of variants) {
    const out = results.get(v.name);
    for (let i = 0; i < per; i++) {
      const x = await once(v.proxy, v.model, v.stream);
      out?.ttfb.push(x.ttfb);
      out?.total.push(x.total);
    }
  }

async function throughput(p: TestProxy, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        await once(p, 'plain-model', false);
        done++;
      }
    }),
  );
  return done / seconds;
}
const rps = { off: [] as number[], on: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  rps.off.push(await throughput(plainProxy, 3));
  rps.on.push(await throughput(ledgerProxy, 3));
}
const ledger = ledgerProxy.ledger;
await waitFor(() => (ledger?.stats().buffered ?? 0) === 0, 30_000, 'the ledger to drain');
const stats = ledger?.stats();
const rows = Number((await db.query('SELECT count(*) AS n FROM switchyard.usage'))[0]?.n);

const get = (name: string) => results.get(name) ?? { ttfb: [], total: [] };
const line = (name: string, key: 'ttfb' | 'total' = 'total', base?: string) => {
  const v = get(name)[key];
  const b = base ? get(base)[key] : undefined;
  const delta = b
    ? `   added p50 ${fmt(quantile(v, 0.5) - quantile(b, 0.5))}, p99 ${fmt(quantile(v, 0.99) - quantile(b, 0.99))}`
    : '';
  return `  ${name.padEnd(50)} p50 ${fmt(quantile(v, 0.5)).padStart(9)}  p99 ${fmt(quantile(v, 0.99)).padStart(9)}${delta}`;
};
const median = (v: number[]) => quantile(v, 0.5);

console.log(
  `\nGuardrails and ledger benchmark — ${per * ROUNDS} requests per variant in ${ROUNDS} alternating rounds, loopback, load average ${loadavg()[0]?.toFixed(1)}\n`,
);
console.log('Local detector in process (all five kinds):');
console.log(`  1 KiB text: ${small.toFixed(1)} µs per check;  16 KiB text: ${large.toFixed(1)} µs per check`);
console.log('\nNon-streamed chat, ~1 KiB prompt, sequential (client-measured, whole answer):');
console.log(line('no guardrail'));
console.log(line('local detector on the request (masks an email)', 'total', 'no guardrail'));
console.log(line('local detector on the request and the answer', 'total', 'no guardrail'));
console.log(line('external stand-in on the request', 'total', 'no guardrail'));
console.log('\nStreamed chat, 64 tokens 2 ms apart — time to the first answer text, then to the end:');
console.log(line('streamed: no guardrail', 'ttfb'));
console.log(line('streamed: local detector on the answer', 'ttfb', 'streamed: no guardrail'));
console.log(line('streamed: no guardrail', 'total'));
console.log(line('streamed: local detector on the answer', 'total', 'streamed: no guardrail'));
console.log('\nUsage ledger (PostgreSQL on loopback):');
console.log(line('ledger off (plain proxy)'));
console.log(line('ledger on', 'total', 'ledger off (plain proxy)'));
console.log(
  `  32 concurrent clients: ${median(rps.off).toFixed(0)} req/s without the ledger, ${median(rps.on).toFixed(0)} req/s with it (medians of ${ROUNDS} × 3 s)`,
);
console.log(
  `  entries written ${stats?.written} (rows in the table ${rows}), dropped ${JSON.stringify(stats?.dropped)}\n`,
);

await Promise.all([plainProxy.stop(), ledgerProxy.stop()]);
await Promise.all([sim.close(), streamSim.close(), svc.close()]);
await db.close();
