/**
 * The client pod of the cluster tests: the official `openai` SDK calling the proxy's Service URL from inside the
 * cluster, driven over HTTP by the test (the host reaches pod IPs over the node's bridge).
 *
 *   POST /traffic/start {baseURL, model, concurrency, stream}  → {id}; workers send requests back to back
 *   POST /traffic/<id>/stop                                    → TrafficReport once in-flight requests ended
 *
 * The SDK's own retries are off (`maxRetries: 0`): every failed request counts. A stream counts as complete only
 * when it ended normally after a chunk with a `finish_reason`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { z } from 'zod';

const trafficSchema = z.object({
  baseURL: z.string().url(),
  model: z.string().min(1),
  concurrency: z.number().int().min(1).max(64).default(4),
  stream: z.boolean().default(false),
  maxTokens: z.number().int().min(1).max(4096).default(8),
});
type TrafficSpec = z.infer<typeof trafficSchema>;

/** What one traffic run saw. */
export interface TrafficReport {
  requests: number;
  ok: number;
  failed: number;
  /** HTTP status (or `network`) → count, failures only. */
  failures: Record<string, number>;
  /** The first few failure messages. */
  samples: string[];
  latencyMs: { p50: number; p99: number; max: number };
  durationMs: number;
}

interface Run {
  stop: () => Promise<TrafficReport>;
}

const runs = new Map<string, Run>();
let nextId = 1;

async function once(client: OpenAI, spec: TrafficSpec): Promise<void> {
  const messages = [{ role: 'user' as const, content: 'Say something short.' }];
  if (!spec.stream) {
    const res = await client.chat.completions.create({ model: spec.model, messages, max_tokens: spec.maxTokens });
    if (!res.choices[0]?.message) throw new Error('answer without a message');
    return;
  }
  const stream = await client.chat.completions.create({
    model: spec.model,
    messages,
    max_tokens: spec.maxTokens,
    stream: true,
  });
  let finished = false;
  for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
  if (!finished) throw new Error('stream ended without a finish_reason');
}

/** The error and its cause (the SDK's "Connection error." hides whether it was a reset or a refusal). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : '';
  return `${err.message}${cause}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function startTraffic(spec: TrafficSpec): Run {
  const client = new OpenAI({ baseURL: spec.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
  const started = Date.now();
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const samples: string[] = [];
  let ok = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const t = Date.now();
      try {
        await once(client, spec);
        ok++;
      } catch (err) {
        const key = err instanceof OpenAI.APIError && err.status ? String(err.status) : 'network';
        failures[key] = (failures[key] ?? 0) + 1;
        if (samples.length < 10) samples.push(`${key}: ${describe(err)}`);
      }
      latencies.push(Date.now() - t);
    }
  };
  const workers = Array.from({ length: spec.concurrency }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      const sorted = [...latencies].sort((a, b) => a - b);
      const failed = Object.values(failures).reduce((a, b) => a + b, 0);
      return {
        requests: ok + failed,
        ok,
        failed,
        failures,
        samples,
        latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
        durationMs: Date.now() - started,
      };
    },
  };
}

async function body(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/healthz') return reply(res, 200, { ok: true });
  if (req.method === 'POST' && url === '/traffic/start') {
    const spec = trafficSchema.safeParse(await body(req));
    if (!spec.success) return reply(res, 400, { error: z.prettifyError(spec.error) });
    const id = String(nextId++);
    runs.set(id, startTraffic(spec.data));
    return reply(res, 200, { id });
  }
  const stop = /^\/traffic\/(\d+)\/stop$/.exec(url);
  const run = stop ? runs.get(stop[1] as string) : undefined;
  if (req.method === 'POST' && stop && run) {
    runs.delete(stop[1] as string);
    return reply(res, 200, await run.stop());
  }
  reply(res, 404, { error: 'not found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) =>
    reply(res, 400, { error: err instanceof Error ? err.message : String(err) }),
  );
});
server.listen(Number(process.env.PORT ?? 8000), '0.0.0.0');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
