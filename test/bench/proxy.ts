/**
 * Data-plane benchmark (issue "Data plane foundation"). One run, same machine, zero-latency simulated upstream:
 *   (a) direct to the simulator, (b) a minimal node:http + undici pass-through proxy, (c) Switchyard.
 * Non-streaming: wrk at 32 connections → req/s, p50/p99. Streaming: 16 concurrent SSE streams from a Node client
 * → streams/s and time to first chunk p50/p99. Prints a table and Switchyard's ratios to the pass-through.
 * Usage: npm run bench -- proxy [--seconds N]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { freePort, killAll, quantile, spawnBuilt, spawnTs, type WrkResult, waitHttp, wrk } from './lib.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } }, allowPositionals: true });
const seconds = Number(values.seconds);
const MODEL = 'bench-model';
const BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 8 });
const STREAM_BODY = JSON.stringify({
  model: MODEL,
  messages: [{ role: 'user', content: 'Say hi.' }],
  max_tokens: 8,
  stream: true,
});

async function streamRun(origin: string, concurrency: number, durationS: number) {
  const pool = new Pool(origin, { connections: concurrency });
  const ttfc: number[] = [];
  let done = 0;
  let errors = 0;
  const end = Date.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        try {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { 'content-type': 'application/json' },
            body: STREAM_BODY,
          });
          let first = true;
          let text = '';
          for await (const chunk of res.body) {
            if (first) {
              ttfc.push(performance.now() - t0);
              first = false;
            }
            text += chunk.toString();
          }
          if (res.statusCode === 200 && text.includes('[DONE]')) done++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  await pool.close();
  return { sps: done / durationS, p50: quantile(ttfc, 0.5), p99: quantile(ttfc, 0.99), errors };
}

const children: ChildProcess[] = [];
process.on('exit', () => killAll(children));
try {
  const simPort = await freePort();
  const sim = spawnTs('test/bench/sim-server.ts', [String(simPort), MODEL]);
  children.push(sim);
  const simUrl = `http://127.0.0.1:${simPort}`;
  await waitHttp(`${simUrl}/health`);

  const ptPort = await freePort();
  children.push(spawnTs('test/bench/passthrough.ts', [String(ptPort), simUrl]));
  const ptUrl = `http://127.0.0.1:${ptPort}`;

  const dir = await mkdtemp('/tmp/switchyard-bench-');
  await writeFile(
    `${dir}/bench.yaml`,
    `apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: sim }
spec:
  provider: vllm
  endpoints: [{ url: "${simUrl}/v1" }]
  models: [{ name: ${MODEL} }]
  healthCheck: { enabled: false }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: bench }
spec: { model: ${MODEL}, backendRefs: [{ name: sim }] }
`,
  );
  const syPort = await freePort();
  const syAdmin = await freePort();
  children.push(
    await spawnBuilt(
      'dist/proxy/src/main.js',
      [
        '--config',
        `${dir}/bench.yaml`,
        '--host',
        '127.0.0.1',
        '--port',
        String(syPort),
        '--admin-port',
        String(syAdmin),
        '--log-level',
        'warn',
      ],
      {
        SWITCHYARD_ACCESS_LOG: 'false',
      },
    ),
  );
  const syUrl = `http://127.0.0.1:${syPort}`;
  await waitHttp(`${ptUrl}/`);
  await waitHttp(`${syUrl}/v1/models`);

  const targets: Array<[string, string]> = [
    ['direct (simulator)', simUrl],
    ['pass-through proxy', ptUrl],
    ['switchyard', syUrl],
  ];
  const results = new Map<string, { plain: WrkResult; stream: Awaited<ReturnType<typeof streamRun>> }>();
  for (const [name, url] of targets) {
    await wrk(`${url}/v1/chat/completions`, BODY, { connections: 32, seconds: 2 }); // warm-up (JIT, sockets)
    const plain = await wrk(`${url}/v1/chat/completions`, BODY, { connections: 32, seconds });
    const stream = await streamRun(url, 16, Math.max(3, Math.round(seconds / 2)));
    results.set(name, { plain, stream });
  }

  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const rows = [...results.entries()].map(([name, r]) => [
    name.padEnd(20),
    f(r.plain.rps, 0).padStart(9),
    f(r.plain.p50Ms).padStart(8),
    f(r.plain.p99Ms).padStart(8),
    String(r.plain.errors).padStart(6),
    f(r.stream.sps, 0).padStart(10),
    f(r.stream.p50).padStart(9),
    f(r.stream.p99).padStart(9),
    String(r.stream.errors).padStart(6),
  ]);
  console.log(
    `\nSwitchyard data-plane benchmark — ${seconds}s per target, wrk -c32 (non-streaming), 16 streams (streaming)`,
  );
  console.log(`${'target'.padEnd(20)}   req/s   p50 ms   p99 ms   errs   streams/s  ttfc p50  ttfc p99   errs`);
  for (const r of rows) console.log(r.join(' '));
  const pt = results.get('pass-through proxy');
  const sy = results.get('switchyard');
  if (pt && sy) {
    console.log(
      `\nswitchyard / pass-through: ${f((100 * sy.plain.rps) / pt.plain.rps, 1)}% req/s (target ≥ 70%), p99 ${f(sy.plain.p99Ms - pt.plain.p99Ms)} ms added (target ≤ +1 ms)`,
    );
    console.log(
      `streaming: ${f((100 * sy.stream.sps) / pt.stream.sps, 1)}% streams/s, time to first chunk p99 ${f(sy.stream.p99 - pt.stream.p99)} ms added`,
    );
  }
} finally {
  killAll(children);
}
