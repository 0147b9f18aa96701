/**
 * LLMBackend: one model server deployment (vLLM, llama.cpp, Ollama: in-cluster through a Service) or one vendor
 * account (OpenAI, Anthropic, any OpenAI-compatible API: remote through a URL).
 */
import { z } from 'zod';
import {
  API_VERSION,
  boundedMap,
  condition,
  duration,
  headerName,
  headerValue,
  httpUrl,
  keyedList,
  objectMeta,
  objectName,
  secretKeyRef,
  urlPath,
  withRules,
} from './common.js';

/** Upstream protocols Switchyard can speak. OpenAI-compatible kinds share one provider implementation. */
export const PROVIDERS = ['openai-compatible', 'vllm', 'llamacpp', 'openai', 'anthropic', 'ollama'] as const;
export const provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof provider>;

export const backendModel = z
  .object({
    name: z.string().min(1).max(256).describe('Model name this backend serves, as pools refer to it.'),
    upstreamName: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Model name sent upstream, when it differs from name (e.g. meta-llama/Llama-3.1-8B-Instruct).'),
  })
  .strict();

export const serviceRef = z
  .object({
    name: objectName('Name of the Service in the same namespace.'),
    port: z
      .union([z.number().int().min(1).max(65535), z.string().min(1).max(15)])
      .describe('Service port number or name; every ready replica behind it becomes one endpoint.'),
    scheme: z.enum(['http', 'https']).default('http').describe('Scheme used to reach the replicas.'),
  })
  .strict()
  .describe('In-cluster Service whose ready replicas (from EndpointSlices) are scheduled individually.');

export const staticEndpoint = z
  .object({
    url: httpUrl('Base URL of one replica, e.g. http://10.0.0.5:8000/v1.'),
    weight: z.number().int().min(0).max(1000).optional().describe('Weight of this replica; defaults to spec.weight.'),
  })
  .strict();

export const healthCheck = z
  .object({
    enabled: z.boolean().default(true).describe('Run active health checks against every endpoint.'),
    path: urlPath(
      'Path probed; defaults per provider (vLLM and llama.cpp: /health, vendors: the models list).',
    ).optional(),
    interval: duration(
      'Time between checks of one endpoint. Default 5s; 60s for vendor APIs (openai, anthropic, and openai-compatible with credentialsRef), where a check is a billed or rate-limited call.',
    ).optional(),
    timeout: duration('Time after which a check counts as failed.').default('2s'),
    healthyThreshold: z.number().int().min(1).max(100).default(1).describe('Successes before an endpoint is healthy.'),
    unhealthyThreshold: z.number().int().min(1).max(100).default(2).describe('Failures before it is unhealthy.'),
  })
  .strict()
  .describe('Active health checking of each endpoint.');

export const timeouts = z
  .object({
    connect: duration('Time to establish a TCP/TLS connection to an endpoint.').default('5s'),
    firstByte: duration('Time from sending the request to the first byte of the response.').default('120s'),
    idle: duration('Longest pause allowed between two chunks of a streamed response.').default('60s'),
    total: duration('Overall limit for one upstream attempt, streaming included.').default('600s'),
  })
  .strict()
  .describe('Per-attempt upstream timeouts.');

export const pricing = z
  .object({
    inputPerMillion: z.number().min(0).describe('Price of one million input (prompt) tokens.'),
    outputPerMillion: z.number().min(0).describe('Price of one million output (completion) tokens.'),
    cachedInputPerMillion: z.number().min(0).optional().describe('Price of one million cached input tokens.'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
      .default('USD')
      .describe('ISO 4217 currency code.'),
  })
  .strict()
  .describe('Token prices used to estimate cost.');

export const metricsScrape = z
  .object({
    enabled: z.boolean().default(true).describe('Scrape the server metrics used by LLM-aware scheduling.'),
    path: urlPath('Path of the Prometheus metrics.').default('/metrics'),
    interval: duration('Time between scrapes of one endpoint.').default('250ms'),
    staleAfter: duration('Age after which scraped data is ignored.').default('2s'),
  })
  .strict()
  .describe('Scraping of vLLM / llama.cpp metrics for LLM-aware scheduling.');

const llmBackendSpecFields = z
  .object({
    provider: provider.describe('Upstream protocol: vllm, llamacpp, ollama, openai, anthropic or openai-compatible.'),
    serviceRef: serviceRef.optional(),
    url: httpUrl('Base URL of a remote API, e.g. https://api.openai.com/v1.').optional(),
    endpoints: z
      .array(staticEndpoint)
      .min(1)
      .max(1000)
      .optional()
      .describe('Static replica URLs (standalone mode and out-of-cluster servers); each is one endpoint.'),
    credentialsRef: secretKeyRef.optional().describe('Secret key holding the API key sent upstream.'),
    models: keyedList(z.array(backendModel).min(1).max(256), 'name').describe('Models this backend serves.'),
    weight: z.number().int().min(0).max(1000).default(1).describe('Scheduling weight of each replica.'),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .optional()
      .describe(
        'Most requests in flight to one replica from all proxies together; further requests go elsewhere or wait.',
      ),
    maxConcurrencyMode: z
      .enum(['Split', 'Exact'])
      .default('Split')
      .describe(
        'How the proxies keep maxConcurrency together: Split gives each proxy its share (no coordination, a share of ' +
          'at least 1 needs maxConcurrency >= proxies); Exact takes a lease per request in the shared Redis (one ' +
          'more round-trip per attempt; each proxy falls back to its share while Redis is unreachable).',
      ),
    healthCheck: healthCheck.optional(),
    timeouts: timeouts.optional(),
    pricing: pricing.optional(),
    metrics: metricsScrape.optional(),
    headers: boundedMap(
      z.record(headerName('Header name.'), headerValue('Header value.'), {
        error: (issue) =>
          issue.code === 'invalid_key' ? 'keys must be HTTP header names (letters, digits, -)' : undefined,
      }),
      64,
    )
      .optional()
      .describe('Extra headers sent with every upstream request (not secret; use credentialsRef for keys).'),
  })
  .strict();

export const llmBackendSpec = withRules(llmBackendSpecFields, [
  {
    cel: '[has(self.serviceRef), has(self.url), has(self.endpoints)].filter(x, x).size() == 1',
    message: 'exactly one of serviceRef, url or endpoints must be set',
    check: (s) => [s.serviceRef, s.url, s.endpoints].filter((x) => x !== undefined).length === 1,
  },
]).describe('LLMBackend describes one model server deployment or vendor account.');
export type LLMBackendSpec = z.infer<typeof llmBackendSpec>;

export const llmBackendStatus = z
  .object({
    conditions: z.array(condition).max(16).optional(),
    readyReplicas: z.number().int().min(0).optional().describe('Replicas ready to take traffic.'),
    totalReplicas: z.number().int().min(0).optional().describe('Replicas known from the Service.'),
    replicas: z.string().optional().describe('Ready/total replicas, for display (e.g. 2/3).'),
    observedGeneration: z.number().int().optional().describe('metadata.generation the status was computed for.'),
  })
  .describe('Observed state of the backend.');
export type LLMBackendStatus = z.infer<typeof llmBackendStatus>;

export const llmBackend = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('LLMBackend'),
  metadata: objectMeta,
  spec: llmBackendSpec,
  status: llmBackendStatus.optional(),
});
export type LLMBackend = z.infer<typeof llmBackend>;
