/**
 * Steady load for tests and benchmarks, recording status and latency per request. Loopback only.
 * - closed loop (default): `concurrency` loops each send one request at a time until `durationMs` passes;
 * - open loop (`ratePerSecond`): exactly `ratePerSecond × durationMs / 1000` requests, each sent at its scheduled
 *   time whatever the answers do (late timers catch up), over up to `concurrency` connections. The offered rate is
 *   then a property of the test, not of the machine.
 */
import { Agent, request } from 'undici';

export interface LoadResult {
  /** Status per request in completion order (0 for a transport error). */
  statuses: number[];
  /** Client-visible latency per request, ms. */
  latencies: number[];
  /** Completion time per request (ms since epoch). */
  finishedAt: number[];
  elapsedMs: number;
}

export interface LoadOptions {
  url: string;
  body: unknown;
  concurrency: number;
  durationMs: number;
  headers?: Record<string, string>;
  /** Open loop at this many requests per second (see above). */
  ratePerSecond?: number;
}

/** Runs the load; resolves when every loop finished. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 10_000 });
  const payload = JSON.stringify(o.body);
  const result: LoadResult = { statuses: [], latencies: [], finishedAt: [], elapsedMs: 0 };
  const start = performance.now();
  const end = Date.now() + o.durationMs;
  const one = async () => {
    const t = performance.now();
    let status = 0;
    try {
      const res = await request(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...o.headers },
        body: payload,
        dispatcher: agent,
      });
      await res.body.text();
      status = res.statusCode;
    } catch {
      status = 0;
    }
    result.statuses.push(status);
    result.latencies.push(performance.now() - t);
    result.finishedAt.push(Date.now());
  };
  if (o.ratePerSecond !== undefined) {
    const total = Math.floor((o.ratePerSecond * o.durationMs) / 1000);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / o.ratePerSecond - performance.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      sent.push(one());
    }
    await Promise.all(sent);
  } else {
    const loop = async () => {
      while (Date.now() < end) await one();
    };
    await Promise.all(Array.from({ length: o.concurrency }, loop));
  }
  result.elapsedMs = performance.now() - start;
  await agent.close();
  return result;
}
