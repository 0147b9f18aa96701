/**
 * Proxy metrics end to end: a scripted set of requests (success, stream, retry, 429, failover, ejection, unknown
 * model) against the simulator, each followed by a scrape of /metrics that must parse strictly and whose
 * counters and histograms must have moved exactly as expected, and no further.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_SPECS } from '../../proxy/src/telemetry/metric-specs.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { measureRequest, scrape as metricsOf } from '../support/metrics-scrape.js';
import { allSamples, parsePrometheusText, sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

let good: Simulator;
let flaky: Simulator;
let broken: Simulator;
let proxy: TestProxy;

const backend = (name: string, sim: Simulator, extra = '') => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name} }
spec:
  provider: vllm
  endpoints: [{ url: "${sim.url}/v1" }]
  models: [{ name: ${name}, upstreamName: sim-model }]
  healthCheck: { enabled: false }
${extra}
---`;
const pool = (name: string, model: string, backendName: string, extra = '') => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${name} }
spec:
  model: ${model}
  backendRefs: [{ name: ${backendName} }]
${extra}
---`;
const quickRetry = (attempts: number) =>
  `  retry: { attempts: ${attempts}, backoff: { base: 1ms, max: 1ms }, budget: { ratio: 1, minPerSecond: 1000 } }`;

function manifests(): string {
  return [
    backend('ok', good, '  pricing: { inputPerMillion: 1, outputPerMillion: 2, currency: USD }'),
    backend('backup', good),
    backend('flaky', flaky),
    backend('broken', broken),
    backend('brittle', broken),
    pool('ok-pool', 'ok', 'ok'),
    pool('backup-pool', 'backup', 'backup'),
    pool('flaky-pool', 'flaky', 'flaky', quickRetry(2)),
    pool('limited-pool', 'limited', 'flaky', quickRetry(1)),
    pool('primary-pool', 'primary', 'broken', quickRetry(1)),
    pool(
      'brittle-pool',
      'brittle',
      'brittle',
      `${quickRetry(1)}\n  outlierDetection: { consecutiveFailures: 1, baseEjectionTime: 60s, maxEjectionPercent: 100 }`,
    ),
    `
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: failover }
spec:
  rules: [{ match: { model: { value: primary } }, fallbacks: [backup-pool] }]
`,
  ].join('\n');
}

beforeAll(async () => {
  [good, flaky, broken] = await Promise.all([
    startSimulator({ flavour: 'vllm' }),
    startSimulator({ flavour: 'vllm' }),
    startSimulator({ flavour: 'vllm' }),
  ]);
  broken.setFaults({ status: 500 });
  proxy = await startTestProxy(manifests());
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await Promise.all([good?.close(), flaky?.close(), broken?.close()]);
});

const scrape = () => metricsOf(proxy.adminUrl);
const step = (send: () => Promise<Response>) => measureRequest(proxy.adminUrl, send);

const post = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8, ...extra }),
  });

const P = (name: string) => `default/${name}`;
/** Metrics registered only when their feature is configured (Redis). */
const CONDITIONAL = new Set(['switchyard_redis_up', 'switchyard_ledger_up', 'switchyard_ledger_buffered_entries']);

describe('proxy metrics', () => {
  it('counts a successful request, its tokens, cost, duration and overhead', async () => {
    const { res, body, delta } = await step(() => post('ok'));
    expect(res.status).toBe(200);
    const usage = JSON.parse(body).usage as { prompt_tokens: number; completion_tokens: number };
    const labels = { model: 'ok', pool: P('ok-pool'), backend: P('ok') };
    expect(delta.of('switchyard_requests_total', { ...labels, surface: 'openai', status_class: '2xx' })).toBe(1);
    expect(delta.of('switchyard_upstream_attempts_total', { backend: P('ok'), outcome: 'success' })).toBe(1);
    expect(delta.of('switchyard_upstream_attempts_total')).toBe(1);
    expect(delta.of('switchyard_tokens_total', { ...labels, type: 'input' })).toBe(usage.prompt_tokens);
    expect(delta.of('switchyard_tokens_total', { ...labels, type: 'output' })).toBe(usage.completion_tokens);
    expect(delta.of('switchyard_estimated_cost_total', { ...labels, currency: 'USD' })).toBeCloseTo(
      (usage.prompt_tokens * 1 + usage.completion_tokens * 2) / 1e6,
      12,
    );
    expect(delta.of('switchyard_request_duration_seconds_count', { model: 'ok', status_class: '2xx' })).toBe(1);
    expect(delta.of('switchyard_request_duration_seconds_bucket', { model: 'ok', le: '+Inf' })).toBe(1);
    expect(delta.of('switchyard_gateway_overhead_seconds_count', { surface: 'openai' })).toBe(1);
    expect(delta.of('switchyard_upstream_time_to_first_token_seconds_count')).toBe(0);
    expect(delta.of('switchyard_retries_total')).toBe(0);
  });

  it('observes time to first token and inter-token latency for a stream', async () => {
    const { res, body, delta } = await step(() =>
      post('ok', { stream: true, stream_options: { include_usage: true } }),
    );
    expect(res.status).toBe(200);
    const usageChunk = body
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number } })
      .find((e) => e.usage);
    const usage = usageChunk?.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(1);
    const labels = { model: 'ok', pool: P('ok-pool'), backend: P('ok') };
    expect(delta.of('switchyard_upstream_time_to_first_token_seconds_count', labels)).toBe(1);
    expect(delta.of('switchyard_upstream_inter_token_latency_seconds_count', labels)).toBe(1);
    expect(delta.of('switchyard_tokens_total', { ...labels, type: 'output' })).toBe(usage?.completion_tokens);
    expect(delta.of('switchyard_requests_total', { model: 'ok', status_class: '2xx' })).toBe(1);
  });

  it('counts a retry after a 503 and both attempts', async () => {
    flaky.setFaults({ status: 503, count: 1 });
    const { res, delta } = await step(() => post('flaky'));
    expect(res.status).toBe(200);
    const attempts = { pool: P('flaky-pool'), backend: P('flaky') };
    expect(delta.of('switchyard_upstream_attempts_total', { ...attempts, outcome: 'server_error' })).toBe(1);
    expect(delta.of('switchyard_upstream_attempts_total', { ...attempts, outcome: 'success' })).toBe(1);
    expect(delta.of('switchyard_upstream_attempts_total')).toBe(2);
    expect(delta.of('switchyard_retries_total', { pool: P('flaky-pool'), cause: '5xx' })).toBe(1);
    expect(delta.of('switchyard_retries_total')).toBe(1);
    expect(delta.of('switchyard_requests_total', { model: 'flaky', backend: P('flaky'), status_class: '2xx' })).toBe(1);
  });

  it('counts an upstream 429 that reaches the client', async () => {
    flaky.setFaults({ status: 429, retryAfter: 1, count: 1 });
    const { res, delta } = await step(() => post('limited'));
    expect(res.status).toBe(429);
    expect(
      delta.of('switchyard_upstream_attempts_total', {
        pool: P('limited-pool'),
        backend: P('flaky'),
        outcome: 'rate_limited',
      }),
    ).toBe(1);
    expect(delta.of('switchyard_requests_total', { model: 'limited', status_class: '4xx' })).toBe(1);
    expect(delta.of('switchyard_retries_total')).toBe(0);
    expect(delta.of('switchyard_tokens_total')).toBe(0);
  });

  it('counts a failover along the fallback chain', async () => {
    const { res, delta } = await step(() => post('primary'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-fallback')).toBe(P('backup-pool'));
    expect(delta.of('switchyard_fallbacks_total', { from_pool: P('primary-pool'), to_pool: P('backup-pool') })).toBe(1);
    expect(
      delta.of('switchyard_upstream_attempts_total', {
        pool: P('primary-pool'),
        backend: P('broken'),
        outcome: 'server_error',
      }),
    ).toBe(1);
    expect(
      delta.of('switchyard_upstream_attempts_total', {
        pool: P('backup-pool'),
        backend: P('backup'),
        outcome: 'success',
      }),
    ).toBe(1);
    expect(delta.of('switchyard_retries_total', { pool: P('backup-pool'), cause: '5xx' })).toBe(1);
    expect(
      delta.of('switchyard_requests_total', {
        model: 'primary',
        pool: P('backup-pool'),
        backend: P('backup'),
        status_class: '2xx',
      }),
    ).toBe(1);
  });

  it('counts an ejection and reports the endpoint and its pool down', async () => {
    const { res, delta } = await step(() => post('brittle'));
    expect(res.status).toBe(502);
    expect(delta.of('switchyard_endpoint_ejections_total', { backend: P('brittle') })).toBe(1);
    expect(delta.of('switchyard_endpoint_ejections_total')).toBe(1);
    expect(sampleSum(delta.after, 'switchyard_endpoint_up', { backend: P('brittle') })).toBe(0);
    expect(sampleSum(delta.after, 'switchyard_endpoint_up', { backend: P('ok') })).toBe(1);
    expect(sampleSum(delta.after, 'switchyard_pool_endpoints', { pool: P('brittle-pool'), state: 'down' })).toBe(1);
    expect(sampleSum(delta.after, 'switchyard_pool_endpoints', { pool: P('brittle-pool'), state: 'up' })).toBe(0);
    expect(delta.of('switchyard_requests_total', { model: 'brittle', status_class: '5xx' })).toBe(1);
  });

  it('never turns an unknown model name or an API key into a label value', async () => {
    const secretModel = 'made-up-model-7f3a9c';
    const apiKey = 'sk-test-0123456789abcdefSECRET';
    const { res, delta } = await step(() => post(secretModel, {}, { authorization: `Bearer ${apiKey}` }));
    expect(res.status).toBe(404);
    expect(delta.of('switchyard_requests_total', { model: 'other', status_class: '4xx' })).toBe(1);
    const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(text).not.toContain(secretModel);
    expect(text).not.toContain(apiKey);
    const models = new Set(allSamples(delta.after).flatMap((s) => (s.labels.model ? [s.labels.model] : [])));
    expect([...models].sort()).toEqual(['brittle', 'flaky', 'limited', 'ok', 'other', 'primary']);
  });

  it('exports every documented metric with its documented labels and type, and the snapshot version', async () => {
    const families = await scrape();
    for (const spec of Object.values(METRIC_SPECS)) {
      if (CONDITIONAL.has(spec.name)) continue;
      const family = families.get(spec.name);
      expect(family, spec.name).toBeDefined();
      expect(family?.type).toBe(spec.type);
      for (const s of family?.samples ?? []) {
        const names = Object.keys(s.labels).filter((l) => l !== 'le');
        expect(names.sort(), spec.name).toEqual([...spec.labelNames].sort());
      }
    }
    const own = [...families.keys()].filter((n) => n.startsWith('switchyard_'));
    const always = Object.values(METRIC_SPECS).filter((s) => !CONDITIONAL.has(s.name));
    expect(own.sort()).toEqual(always.map((s) => s.name).sort());
    const version = proxy.store.current?.config.version as string;
    expect(sampleSum(families, 'switchyard_config_info', { version })).toBe(1);
    expect(sampleSum(families, 'switchyard_config_last_apply_timestamp_seconds')).toBeGreaterThan(1.6e9);
    expect(families.get('process_cpu_user_seconds_total')).toBeDefined();
    expect(families.get('nodejs_eventloop_lag_seconds')).toBeDefined();
  });

  it('answers OpenMetrics when asked for it', async () => {
    const res = await fetch(`${proxy.adminUrl}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    const families = parsePrometheusText(await res.text(), { openMetrics: true });
    expect(families.get('switchyard_requests')?.type).toBe('counter');
    expect(sampleSum(families, 'switchyard_requests_total')).toBeGreaterThan(0);
    // prom-client renames counters for OpenMetrics; the next text scrape must still say _total.
    const plain = await scrape();
    expect(plain.get('switchyard_requests_total')?.type).toBe('counter');
    expect(plain.get('process_cpu_user_seconds_total')?.type).toBe('counter');
  });
});
