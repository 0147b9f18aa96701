/**
 * Data-plane benchmark (issue "Data plane foundation"). One run, same machine, zero-latency simulated upstream:
 *   (a) direct to the simulator, (b) a minimal node:http + undici pass-through proxy, (c) Switchyard.
 * Non-streaming: wrk at 32 connections → req/s, p50/p99. Streaming: 16 concurrent SSE streams from a Node client
 * → streams/s and time to first chunk p50/p99. The proxy runs compiled (dist/), as in the image, with the access
 * log off. Targets take turns in R rounds of N/R seconds; figures are medians over the rounds, and Switchyard's ratios
 * to the pass-through are the median of the per-round ratios.
 * Usage: npm run bench -- proxy [--seconds N (15)] [--rounds R (5)]
 *
 * With `--upstream llamacpp`: time to first token and inter-token latency against a real llama-server instead,
 * direct vs through Switchyard (proxy-llamacpp.ts): [--rounds R (5)] [--streams N (8)] [--concurrency C (1)]
 * [--tokens T (64)].
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { freePort, killAll, quantile, spawnTs, startBuiltProxy, type WrkResult, waitHttp, wrk } from './lib.js';
import { benchLlamaCpp } from './proxy-llamacpp.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '5' },
    upstream: { type: 'string', default: 'simulator' },
    streams: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '64' },
  },
  allowPositionals: true,
});
if (values.upstream === 'llamacpp') {
  await benchLlamaCpp({
    rounds: Math.max(1, Number(values.rounds)),
    streams: Math.max(1, Number(values.streams)),
    concurrency: Math.max(1, Number(values.concurrency)),
    tokens: Math.max(2, Number(values.tokens)),
  });
  process.exit(0);
}
if (values.upstream !== 'simulator') {
  console.error(`--upstream: simulator or llamacpp, not ${values.upstream}`);
  process.exit(2);
}
const ROUNDS = Math.max(1, Number(values.rounds));
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

  const switchyard = await startBuiltProxy({
    provider: 'vllm',
    url: `${simUrl}/v1`,
    model: MODEL,
    backendSpec: '  healthCheck: { enabled: false }',
  });
  children.push(switchyard.child);
  const syUrl = switchyard.url;
  await waitHttp(`${ptUrl}/`);
  await waitHttp(`${syUrl}/v1/models`);

  const targets: Array<[string, string]> = [
    ['direct (simulator)', simUrl],
    ['pass-through proxy', ptUrl],
    ['switchyard', syUrl],
  ];
  // Targets take turns in ROUNDS rounds (each a slice of the time), and each figure is the median over the rounds:
  // load drifting on a shared machine then hits every target alike instead of whichever ran at the wrong moment.
  for (const [, url] of targets) await wrk(`${url}/v1/chat/completions`, BODY, { connections: 32, seconds: 3 }); // JIT
  type StreamResult = Awaited<ReturnType<typeof streamRun>>;
  const runs = new Map<string, { plain: WrkResult[]; stream: StreamResult[] }>(
    targets.map(([name]) => [name, { plain: [], stream: [] }]),
  );
  const slice = Math.max(2, Math.round(seconds / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of targets) {
      const r = runs.get(name) as { plain: WrkResult[]; stream: StreamResult[] };
      r.plain.push(await wrk(`${url}/v1/chat/completions`, BODY, { connections: 32, seconds: slice }));
      r.stream.push(await streamRun(url, 16, Math.max(2, Math.round(slice / 2))));
    }
  }
  const median = <T>(xs: T[], by: (x: T) => number) => quantile(xs.map(by), 0.5);
  const results = new Map(
    [...runs].map(([name, r]) => [
      name,
      {
        plain: {
          rps: median(r.plain, (x) => x.rps),
          p50Ms: median(r.plain, (x) => x.p50Ms),
          p99Ms: median(r.plain, (x) => x.p99Ms),
          errors: r.plain.reduce((a, x) => a + x.errors, 0),
        },
        stream: {
          sps: median(r.stream, (x) => x.sps),
          p50: median(r.stream, (x) => x.p50),
          p99: median(r.stream, (x) => x.p99),
          errors: r.stream.reduce((a, x) => a + x.errors, 0),
        },
      },
    ]),
  );

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
    `\nSwitchyard data-plane benchmark — ${ROUNDS} rounds of ${slice}s per target (medians), wrk -c32 (non-streaming), 16 streams (streaming)`,
  );
  console.log(`${'target'.padEnd(20)}   req/s   p50 ms   p99 ms   errs   streams/s  ttfc p50  ttfc p99   errs`);
  for (const r of rows) console.log(r.join(' '));
  const pt = runs.get('pass-through proxy');
  const sy = runs.get('switchyard');
  if (pt && sy) {
    // Ratios per round (the two targets ran back to back), then their median: robust to load drifting between rounds.
    const perRound = (a: number[], b: number[]) => a.map((x, i) => (100 * x) / (b[i] as number));
    const rps = perRound(
      sy.plain.map((x) => x.rps),
      pt.plain.map((x) => x.rps),
    );
    const sps = perRound(
      sy.stream.map((x) => x.sps),
      pt.stream.map((x) => x.sps),
    );
    const p99 = sy.plain.map((x, i) => x.p99Ms - (pt.plain[i] as WrkResult).p99Ms);
    const ttfc = sy.stream.map((x, i) => x.p99 - (pt.stream[i] as StreamResult).p99);
    const list = (xs: number[], d = 1) => xs.map((x) => f(x, d)).join(' ');
    console.log(
      `\nswitchyard / pass-through (median of per-round ratios): ${f(quantile(rps, 0.5), 1)}% req/s (target ≥ 70%; rounds: ${list(rps)}), p99 ${f(quantile(p99, 0.5))} ms added (target ≤ +1 ms; rounds: ${list(p99, 2)})`,
    );
    console.log(
      `streaming: ${f(quantile(sps, 0.5), 1)}% streams/s (rounds: ${list(sps)}), time to first chunk p99 ${f(quantile(ttfc, 0.5))} ms added (rounds: ${list(ttfc, 2)})`,
    );
  }
} finally {
  killAll(children);
}
