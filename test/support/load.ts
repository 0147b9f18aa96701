/**
 * Steady closed-loop load for tests and benchmarks: `concurrency` loops each send one request at a time until
 * `durationMs` passes (or `stop()`), recording status and latency per request. Loopback only.
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
}

/** Runs the load; resolves when every loop finished. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 10_000 });
  const payload = JSON.stringify(o.body);
  const result: LoadResult = { statuses: [], latencies: [], finishedAt: [], elapsedMs: 0 };
  const start = performance.now();
  const end = Date.now() + o.durationMs;
  const loop = async () => {
    while (Date.now() < end) {
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
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  result.elapsedMs = performance.now() - start;
  await agent.close();
  return result;
}
