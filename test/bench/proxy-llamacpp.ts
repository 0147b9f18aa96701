/**
 * `npm run bench -- proxy --upstream llamacpp`: time to first token and inter-token latency against a real llama.cpp
 * `llama-server` (the real tier's build and tiny model, test/real/llamacpp), direct vs through Switchyard (compiled,
 * access log off). Streams of `--tokens` tokens (ignore_eos) at `--concurrency` parallel streams; the two targets take
 * turns in rounds so load drifting on a shared machine hits both alike; figures are over every stream of every round.
 * TTFT = request sent → first content token; ITL = per stream, (last token − first token) / (tokens − 1): tokens
 * come about a millisecond apart and several arrive in one read, so gaps between single events say little.
 */
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'undici';
import { LLAMA_CPP_PINS, startLlamaServer } from '../real/llamacpp/index.js';
import { killAll, quantile, startBuiltProxy, waitHttp } from './lib.js';

const MODEL = 'bench-model';

export interface LlamaCppBenchOptions {
  rounds: number;
  /** Streams per target per round, per concurrent client. */
  streams: number;
  concurrency: number;
  tokens: number;
}

interface Sample {
  ttft: number[];
  itl: number[];
  errors: string[];
}

async function streams(origin: string, o: LlamaCppBenchOptions, into: Sample): Promise<void> {
  const pool = new Pool(origin, { connections: o.concurrency });
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }],
    max_tokens: o.tokens,
    ignore_eos: true,
    stream: true,
  });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let i = 0; i < o.streams; i++) {
        const t0 = performance.now();
        let first: number | undefined;
        let last = 0;
        let tokens = 0;
        try {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { 'content-type': 'application/json' },
            body,
          });
          let buf = '';
          for await (const chunk of res.body) {
            buf += chunk.toString();
            let cut = buf.indexOf('\n\n');
            while (cut >= 0) {
              const ev = buf.slice(0, cut);
              buf = buf.slice(cut + 2);
              cut = buf.indexOf('\n\n');
              if (!ev.includes('"content":"')) continue; // role-only, finish and usage chunks carry no token
              last = performance.now();
              if (first === undefined) {
                first = last;
                into.ttft.push(first - t0);
              }
              tokens++;
            }
          }
          if (res.statusCode !== 200 || tokens === 0) into.errors.push(`status ${res.statusCode}, ${tokens} tokens`);
          else if (first !== undefined && tokens > 1) into.itl.push((last - first) / (tokens - 1));
        } catch (e) {
          into.errors.push(String(e).slice(0, 120));
        }
      }
    }),
  );
  await pool.close();
}

/** Runs the benchmark and prints its table. */
export async function benchLlamaCpp(o: LlamaCppBenchOptions): Promise<void> {
  const children: ChildProcess[] = [];
  const server = await startLlamaServer({
    parallel: Math.max(1, o.concurrency),
    ctx: 4096 * Math.max(1, o.concurrency),
  });
  try {
    const proxy = await startBuiltProxy({ provider: 'llamacpp', url: `${server.url}/v1`, model: MODEL });
    children.push(proxy.child);
    const proxyUrl = proxy.url;
    await waitHttp(`${proxyUrl}/v1/models`);
    const targets: Array<[string, string]> = [
      ['direct (llama-server)', server.url],
      ['switchyard', proxyUrl],
    ];
    const samples = new Map<string, Sample>(targets.map(([n]) => [n, { ttft: [], itl: [], errors: [] }]));
    for (const [, url] of targets) await streams(url, { ...o, streams: 2 }, { ttft: [], itl: [], errors: [] }); // warm-up
    for (let round = 0; round < o.rounds; round++)
      for (const [name, url] of targets) await streams(url, o, samples.get(name) as Sample);

    const f = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
    console.log(
      `\nSwitchyard against real llama-server (llama.cpp ${LLAMA_CPP_PINS.LLAMA_CPP_COMMIT}, llama-cpp-python ${LLAMA_CPP_PINS.LLAMA_CPP_PYTHON_VERSION} sdist, tiny model) — ${o.rounds} rounds × ${o.streams * o.concurrency} streams of ${o.tokens} tokens, ${o.concurrency} concurrent`,
    );
    console.log(`${'target'.padEnd(22)} ttft p50  ttft p99   itl p50   itl p99  streams  errs`);
    const stat = new Map<string, number[]>();
    for (const [name] of targets) {
      const s = samples.get(name) as Sample;
      const row = [quantile(s.ttft, 0.5), quantile(s.ttft, 0.99), quantile(s.itl, 0.5), quantile(s.itl, 0.99)];
      stat.set(name, row);
      console.log(
        `${name.padEnd(22)} ${row.map((x) => f(x).padStart(8)).join('  ')}  ${String(s.ttft.length).padStart(7)}  ${String(s.errors.length).padStart(4)}`,
      );
      for (const e of new Set(s.errors)) console.log(`  error: ${e}`);
    }
    const d = stat.get('direct (llama-server)') as number[];
    const p = stat.get('switchyard') as number[];
    console.log(
      `\nadded by the proxy (ms): ttft p50 ${f((p[0] as number) - (d[0] as number))}, p99 ${f((p[1] as number) - (d[1] as number))}; itl p50 ${f((p[2] as number) - (d[2] as number))}, p99 ${f((p[3] as number) - (d[3] as number))}`,
    );
  } finally {
    killAll(children);
    await server.stop();
  }
}
