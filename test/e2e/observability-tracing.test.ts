/**
 * OpenTelemetry traces end to end: the proxy exports OTLP/HTTP JSON to a loopback receiver; spans have the
 * right parent/child links (client traceparent → SERVER span → one CLIENT span per attempt), GenAI attributes,
 * retry and fallback events, and each upstream request carries the `traceparent` of its own attempt span.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

const SERVER = 2;
const CLIENT = 3;
const PROMPT = 'a private prompt 5c1e';
const SYSTEM = 'a route system prompt 9d2f';

let receiver: OtlpReceiver;
let sim: Simulator;
let broken: Simulator;
let proxy: TestProxy;

const manifests = (a: Simulator, b: Simulator) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: main }
spec:
  provider: vllm
  endpoints: [{ url: "${a.url}/v1" }]
  models: [{ name: m, upstreamName: sim-model }, { name: backup, upstreamName: sim-model }]
  healthCheck: { enabled: false }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: broken }
spec:
  provider: vllm
  endpoints: [{ url: "${b.url}/v1" }]
  models: [{ name: primary, upstreamName: sim-model }]
  healthCheck: { enabled: false }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: m-pool }
spec:
  model: m
  backendRefs: [{ name: main }]
  retry: { attempts: 2, backoff: { base: 1ms, max: 1ms }, budget: { ratio: 1, minPerSecond: 1000 } }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: backup-pool }
spec:
  model: backup
  backendRefs: [{ name: main }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: primary-pool }
spec:
  model: primary
  backendRefs: [{ name: broken }]
  retry: { attempts: 1 }
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: failover }
spec:
  rules: [{ match: { model: { value: primary } }, fallbacks: [backup-pool] }]
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: prompted }
spec:
  rules:
    - match: { model: { value: backup }, headers: [{ name: x-prompted, value: "yes" }] }
      systemPrompt: { text: "${SYSTEM}", mode: prepend }
`;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  [sim, broken] = await Promise.all([startSimulator({ flavour: 'vllm' }), startSimulator({ flavour: 'vllm' })]);
  broken.setFaults({ status: 500 });
  proxy = await startTestProxy(manifests(sim, broken), {
    otelEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'switchyard-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await Promise.all([sim?.close(), broken?.close(), receiver?.close()]);
});

const chat = (model: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }], max_tokens: 8, ...extra }),
  });

/** Waits for the server span of request `id` and every span of its trace that ended by then. */
async function traceOf(id: string, clientSpans: number): Promise<{ server: ReceivedSpan; clients: ReceivedSpan[] }> {
  let server: ReceivedSpan | undefined;
  let clients: ReceivedSpan[] = [];
  await waitFor(
    () => {
      server = receiver.spans().find((s) => s.kind === SERVER && s.attributes['switchyard.request_id'] === id);
      clients = server ? receiver.spans().filter((s) => s.kind === CLIENT && s.traceId === server?.traceId) : [];
      return clients.length >= clientSpans;
    },
    15_000,
    `the spans of request ${id}`,
  );
  return {
    server: server as ReceivedSpan,
    clients: clients.sort(
      (a, b) => (a.attributes['switchyard.attempt'] as number) - (b.attributes['switchyard.attempt'] as number),
    ),
  };
}

const traceparentsSeenBySim = (s: Simulator) => s.requests().map((r) => r.headers.traceparent as string | undefined);

describe('OpenTelemetry traces', () => {
  it('links client traceparent → server span → one client span per attempt, with a retry event', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    sim.resetStats();
    sim.setFaults({ status: 503, count: 1 });
    const res = await chat('m', { traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'trace-retry-1' });
    expect(res.status).toBe(200);
    const usage = ((await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const { server, clients } = await traceOf('trace-retry-1', 2);

    expect(server.traceId).toBe(traceId);
    expect(server.parentSpanId).toBe(parentId);
    expect(server.resource['service.name']).toBe('switchyard-under-test');
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'm',
      'gen_ai.response.model': 'm',
      'gen_ai.request.max_tokens': 8,
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': usage.completion_tokens,
      'http.response.status_code': 200,
      'switchyard.attempts': 2,
    });
    expect(server.events.find((e) => e.name === 'retry')?.attributes['switchyard.retry.cause']).toBe('5xx');

    expect(clients).toHaveLength(2);
    for (const c of clients) {
      expect(c.parentSpanId).toBe(server.spanId);
      expect(c.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'vllm',
        'gen_ai.request.model': 'sim-model',
        'server.address': '127.0.0.1',
        'server.port': sim.port,
      });
    }
    const [failed, ok] = clients as [ReceivedSpan, ReceivedSpan];
    expect(failed.statusCode).toBe(2);
    expect(failed.attributes['error.type']).toBeDefined();
    expect(ok.statusCode).not.toBe(2);
    expect(ok.attributes).toMatchObject({
      'gen_ai.response.model': 'sim-model',
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': usage.completion_tokens,
    });

    // Each upstream request carried the context of its own attempt span.
    expect(traceparentsSeenBySim(sim)).toEqual([`00-${traceId}-${failed.spanId}-01`, `00-${traceId}-${ok.spanId}-01`]);
    // No prompt text unless content capture is enabled.
    expect(JSON.stringify(receiver.spans())).not.toContain(PROMPT);
  });

  it('starts a new trace for a request without traceparent and records a fallback event', async () => {
    const res = await chat('primary', { 'x-request-id': 'trace-fallback-1' });
    expect(res.status).toBe(200);
    const { server, clients } = await traceOf('trace-fallback-1', 2);
    expect(server.parentSpanId).toBeUndefined();
    expect(server.events.find((e) => e.name === 'fallback')?.attributes).toEqual({
      'switchyard.fallback.from': 'default/primary-pool',
      'switchyard.fallback.to': 'default/backup-pool',
    });
    expect(clients.map((c) => c.attributes['switchyard.backend'])).toEqual(['default/broken', 'default/main']);
    const seenByBroken = traceparentsSeenBySim(broken).at(-1);
    expect(seenByBroken).toBe(`00-${server.traceId}-${clients[0]?.spanId}-01`);
  });

  it('records a streamed request with usage on both spans', async () => {
    const res = await chat(
      'm',
      { 'x-request-id': 'trace-stream-1' },
      { stream: true, stream_options: { include_usage: true } },
    );
    expect(res.status).toBe(200);
    await res.text();
    const { server, clients } = await traceOf('trace-stream-1', 1);
    expect(server.attributes['switchyard.stream']).toBe(true);
    expect(server.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(clients[0]?.events.map((e) => e.name)).toContain('first_byte');
    expect(clients[0]?.attributes['gen_ai.usage.output_tokens']).toBe(server.attributes['gen_ai.usage.output_tokens']);
  });

  it('sends no traceparent upstream when no OTLP endpoint is configured', async () => {
    const quiet = await startTestProxy(manifests(sim, broken), { otelEnv: {} });
    try {
      await waitFor(() => quiet.store.current !== undefined, 10_000, 'the snapshot');
      sim.resetStats();
      const res = await fetch(`${quiet.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }),
      });
      expect(res.status).toBe(200);
      expect(traceparentsSeenBySim(sim)).toEqual([undefined]);
    } finally {
      await quiet.stop();
    }
  });

  it("keeps a route's system prompt out of traces when content capture is off", async () => {
    const res = await chat('backup', { 'x-request-id': 'trace-system-off', 'x-prompted': 'yes' });
    expect(res.status).toBe(200);
    const { server, clients } = await traceOf('trace-system-off', 1);
    expect(server.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(JSON.stringify([server, ...clients])).not.toContain(SYSTEM);
    // The upstream did get it.
    expect(JSON.stringify(sim.requests().at(-1)?.body)).toContain(SYSTEM);
  });

  it('records the prompt only when content capture is enabled, capped at 16 KiB', async () => {
    const capturing = await startTestProxy(manifests(sim, broken), {
      otelEnv: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      },
    });
    try {
      await waitFor(() => capturing.store.current !== undefined, 10_000, 'the snapshot');
      const send = (id: string, content: string) =>
        fetch(`${capturing.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 2 }),
        });
      expect((await send('trace-capture-1', PROMPT)).status).toBe(200);
      const prompted = await fetch(`${capturing.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'trace-capture-3', 'x-prompted': 'yes' },
        body: JSON.stringify({ model: 'backup', messages: [{ role: 'user', content: PROMPT }], max_tokens: 2 }),
      });
      expect(prompted.status).toBe(200);
      const withSystem = (await traceOf('trace-capture-3', 1)).server.attributes['gen_ai.input.messages'];
      // What the upstream got: the route's system prompt first.
      expect(JSON.parse(withSystem as string)).toEqual([
        { role: 'system', content: SYSTEM },
        { role: 'user', content: PROMPT },
      ]);
      expect((await send('trace-capture-2', 'z'.repeat(40_000))).status).toBe(200);
      const small = (await traceOf('trace-capture-1', 1)).server.attributes['gen_ai.input.messages'];
      expect(JSON.parse(small as string)).toEqual([{ role: 'user', content: PROMPT }]);
      const big = (await traceOf('trace-capture-2', 1)).server.attributes['gen_ai.input.messages'] as string;
      expect(big.length).toBe(16_384 + 1);
      expect(big.endsWith('…')).toBe(true);
    } finally {
      await capturing.stop();
    }
  });
});
