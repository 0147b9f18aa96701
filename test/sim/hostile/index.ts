/**
 * The hostile upstream: an LLM server that speaks every upstream protocol the proxy uses (OpenAI / vLLM / llama.cpp,
 * Anthropic, Ollama) and breaks its answers on request: malformed JSON / SSE / NDJSON, truncated streams and tool
 * calls, giant and never-ending lines, one-byte drip, wrong content types, absurd usage, credentials echoed in
 * errors, an error as the first event, broken HTTP. Each request picks its class and seed with a
 * `[hostile <class> <seed> <case>]` marker in its body (a prompt survives every translation); see README.md.
 */
import { type HostileOptions, type HostileRecord, HostileServer } from './server.js';

export type { Expectation } from './classes.js';
export { CLASS_NAMES } from './classes.js';
export type { HostileOptions, HostileRecord } from './server.js';
export { hostileMarker } from './server.js';

/** A running hostile upstream. */
export interface HostileUpstream {
  /** Base URL (origin) of each replica. */
  urls: string[];
  /** What the server did with the requests that carried `caseId` (removed once taken). */
  take(caseId: string): HostileRecord[];
  /** Requests, marked requests, connections and marked requests per class so far. */
  counts(): HostileServer['counts'];
  /** Errors of the server itself (a broken class), which tests expect to be none. */
  internalErrors(): string[];
  close(): Promise<void>;
}

/** Starts the hostile upstream on free loopback ports. */
export async function startHostileUpstream(options: HostileOptions = {}): Promise<HostileUpstream> {
  const server = new HostileServer({
    host: options.host ?? '127.0.0.1',
    replicas: options.replicas ?? 1,
    endlessCapBytes: options.endlessCapBytes ?? 64 * 1024 * 1024,
    maxHangMs: options.maxHangMs ?? 120_000,
    defaultClass: options.defaultClass ?? 'valid',
    recordLimit: options.recordLimit ?? 100_000,
  });
  await server.listen();
  const host = server.ports.length > 0 ? (options.host ?? '127.0.0.1') : '';
  return {
    urls: server.ports.map((p) => `http://${host}:${p}`),
    take: (id) => server.take(id),
    counts: () => server.counts,
    internalErrors: () => server.internalErrors,
    close: () => server.close(),
  };
}
