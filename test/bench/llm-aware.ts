/**
 * LLM-aware scheduling benchmark (issue "LLM-aware scheduling"): 8 simulated vLLM replicas with the KV-cache model
 * on (limited KV blocks and slots, prefill cost per uncached prompt token, decode cost per running request), in a
 * child process, behind the real proxy; a workload of users sharing long system prompts in multi-turn
 * conversations, open-loop at a rate that saturates round-robin. Each strategy runs on fresh replicas (cold
 * caches) with the same arrivals. Prints TTFT p50/p90, output tokens/s, the replicas' prefix-cache hit rate and
 * max/min requests per replica. Only prints; never fails on figures.
 * Usage: npx tsx test/bench/llm-aware.ts [--rate 75] [--seconds 20] [--strategies random,llm-aware]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startProxy } from '../../proxy/src/server.js';
import type { SimStats } from '../sim/index.js';
import { quantile, serveSimulators, simStats, spawnJsonChild } from './lib.js';
import { runWorkload, type TurnResult, type WorkloadShape } from './llm-aware-workload.js';

const REPLICAS = 8;
/** Simulated replica: 4 slots, 16k tokens of KV cache, 1 ms prefill per uncached prompt token. */
const SIM = {
  flavour: 'vllm' as const,
  models: ['bench-model'],
  maxConcurrency: 4,
  kvBlocks: 1024,
  blockSize: 16,
  prefillMsPerToken: 1,
  decodeMsPerToken: 1,
  itlMs: 2,
  ttftMs: 0,
  outputTokens: 24,
  recordLimit: 0,
};
const SHAPE: WorkloadShape = {
  groups: 4,
  systemTokens: 1000,
  questionTokens: 120,
  answerTokens: 24,
  turnsPerConversation: 10,
  users: 64,
};
const WARMUP_MS = 3000;
const DRAIN_MS = 8000;

// Child mode: serve the replicas and print their URLs as one JSON line.
if (process.argv[2] === '--serve-sims') await serveSimulators(REPLICAS, SIM);

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    strategies: { type: 'string', default: 'random,weighted-round-robin,least-connections,llm-aware' },
    seed: { type: 'string', default: '7' },
  },
});
const RATE = Number(values.rate);
const DURATION_MS = Number(values.seconds) * 1000;

async function startSims(): Promise<{ child: ChildProcess; urls: string[] }> {
  const { child, out } = await spawnJsonChild<string[]>(fileURLToPath(import.meta.url), ['--serve-sims']);
  return { child, urls: out };
}

const manifests = (urls: string[], strategy: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: vllm }
spec:
  provider: vllm
  endpoints: [${urls.map((u) => `{ url: "${u}/v1" }`).join(', ')}]
  models: [{ name: bench-model }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: bench }
spec:
  model: bench-model
  backendRefs: [{ name: vllm }]
  scheduling: { strategy: ${strategy} }
`;

interface Row {
  strategy: string;
  ttftP50: number;
  ttftP90: number;
  tokensPerSecond: number;
  hitRate: number;
  maxMinLoad: number;
  requests: number;
  failed: number;
}

async function runStrategy(strategy: string): Promise<Row> {
  const { child, urls } = await startSims();
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-llm-bench-'));
  const configPath = join(dir, 'manifests.yaml');
  await writeFile(configPath, manifests(urls, strategy));
  const proxy = await startProxy({
    host: '127.0.0.1',
    port: 0,
    adminPort: 0,
    configPath,
    accessLog: false,
    log: pino({ level: 'silent' }),
  });
  try {
    let before: SimStats[] = [];
    const warm = setTimeout(async () => {
      before = await simStats(urls);
    }, WARMUP_MS);
    const results = await runWorkload({
      baseUrl: proxy.url,
      model: 'bench-model',
      shape: SHAPE,
      rate: RATE,
      durationMs: DURATION_MS,
      drainMs: DRAIN_MS,
      seed: Number(values.seed),
    });
    clearTimeout(warm);
    const after = await simStats(urls);
    return summarise(strategy, results, before, after);
  } finally {
    await proxy.close(1000);
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

function summarise(strategy: string, results: TurnResult[], before: SimStats[], after: SimStats[]): Row {
  const measured = results.filter((r) => r.sentAt >= WARMUP_MS);
  const ttft = measured.filter((r) => !r.failed).map((r) => r.ttftMs as number);
  const windowEnd = DURATION_MS;
  const tokens = results
    .filter((r) => r.doneAt !== undefined && r.doneAt >= WARMUP_MS && r.doneAt <= windowEnd)
    .reduce((a, r) => a + r.outputTokens, 0);
  const diff = (f: (s: SimStats) => number) => after.map((s, i) => f(s) - (before[i] ? f(before[i]) : 0));
  const hits = diff((s) => s.prefixCacheHits).reduce((a, b) => a + b, 0);
  const queries = diff((s) => s.prefixCacheQueries).reduce((a, b) => a + b, 0);
  const served = diff((s) => s.completed);
  return {
    strategy,
    ttftP50: quantile(ttft, 0.5),
    ttftP90: quantile(ttft, 0.9),
    tokensPerSecond: tokens / ((windowEnd - WARMUP_MS) / 1000),
    hitRate: queries > 0 ? hits / queries : 0,
    maxMinLoad: Math.max(...served) / Math.max(1, Math.min(...served)),
    requests: measured.length,
    failed: measured.filter((r) => r.failed).length,
  };
}

const rows: Row[] = [];
for (const strategy of (values.strategies ?? '').split(',')) {
  process.stderr.write(`running ${strategy}...\n`);
  rows.push(await runStrategy(strategy));
}

const header = [
  'strategy',
  'TTFT p50 (ms)',
  'TTFT p90 (ms)',
  'output tok/s',
  'prefix hit',
  'max/min load',
  'requests',
  'failed',
];
const cells = rows.map((r) => [
  r.strategy,
  r.ttftP50.toFixed(0),
  r.ttftP90.toFixed(0),
  r.tokensPerSecond.toFixed(0),
  `${(r.hitRate * 100).toFixed(1)}%`,
  r.maxMinLoad.toFixed(2),
  String(r.requests),
  String(r.failed),
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
const line = (c: string[]) =>
  c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
console.log(
  `llm-aware benchmark: ${REPLICAS} vLLM sims (${SIM.maxConcurrency} slots, ${SIM.kvBlocks}x${SIM.blockSize}-token KV blocks, ` +
    `prefill ${SIM.prefillMsPerToken} ms/token), ${RATE} req/s for ${DURATION_MS / 1000}s (first ${WARMUP_MS / 1000}s not measured), ` +
    `${SHAPE.groups} system prompts of ${SHAPE.systemTokens} tokens, ${SHAPE.turnsPerConversation}-turn conversations (node ${process.version})`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const c of cells) console.log(line(c));
const by = (s: string) => rows.find((r) => r.strategy === s);
const llm = by('llm-aware');
for (const base of ['weighted-round-robin', 'least-connections', 'random']) {
  const b = by(base);
  if (llm && b) console.log(`TTFT p90 ${base} / llm-aware: ${(b.ttftP90 / llm.ttftP90).toFixed(1)}x`);
}
process.exit(0);
