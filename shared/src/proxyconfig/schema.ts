/**
 * The ProxyConfig snapshot: the one contract between the operator (which builds and pushes it) and the proxies
 * (which validate and serve it). Immutable and complete; `version` is a content hash, so equal content means an
 * equal version. Durations are milliseconds. Contains credentials: never log or expose it unredacted.
 * This module must not import the operator, the proxy or @kubernetes/client-node.
 */
import { z } from 'zod';
import {
  DETECTOR_KINDS,
  GUARDRAIL_PHASES,
  MAX_DURATION_MS,
  PRIORITY_CLASSES,
  PROVIDERS,
  QUEUE_DISCIPLINES,
  RETRY_ON,
  SCHEDULING_STRATEGIES,
} from '../api/v1alpha1/index.js';
import { re2SyntaxError } from '../matching/re2.js';
import { fleetView } from './fleet.js';

export const SCHEMA_VERSION = 1;

/** A duration in milliseconds, bounded like the CRDs' durations (a timer Node.js can arm). */
const ms = z.number().int().min(0).max(MAX_DURATION_MS);

export const endpointConfig = z.object({
  id: z.string().min(1).describe('Stable identifier shown to clients and in metrics (never an address).'),
  url: z.url({ protocol: /^https?$/ }).describe('Base URL of this replica including the API base path.'),
  weight: z.number().int().min(0),
});
export type EndpointConfig = z.infer<typeof endpointConfig>;

export const backendConfig = z.object({
  id: z.string().min(1).describe('namespace/name of the LLMBackend.'),
  provider: z.enum(PROVIDERS),
  endpoints: z.array(endpointConfig),
  models: z.record(z.string(), z.string()).describe('Model name → upstream model name.'),
  apiKey: z.string().optional().describe('Credential sent upstream; secret.'),
  headers: z.record(z.string(), z.string()).default({}),
  maxConcurrency: z.number().int().min(1).optional().describe('Per replica, for the whole fleet of proxies.'),
  maxConcurrencyMode: z
    .literal('exact')
    .optional()
    .describe('Leases in the shared Redis keep maxConcurrency exactly; absent: each proxy keeps its share.'),
  healthCheck: z.object({
    enabled: z.boolean(),
    path: z.string().optional(),
    intervalMs: ms,
    timeoutMs: ms,
    healthyThreshold: z.number().int().min(1),
    unhealthyThreshold: z.number().int().min(1),
  }),
  timeouts: z.object({ connectMs: ms, firstByteMs: ms, idleMs: ms, totalMs: ms }),
  pricing: z
    .object({
      inputPerMillion: z.number().min(0),
      outputPerMillion: z.number().min(0),
      cachedInputPerMillion: z.number().min(0).optional(),
      currency: z.string(),
    })
    .optional(),
  metrics: z.object({ enabled: z.boolean(), path: z.string(), intervalMs: ms, staleAfterMs: ms }).optional(),
});
export type BackendConfig = z.infer<typeof backendConfig>;

export const poolTargetConfig = z.object({
  backend: z.string().min(1).describe('Backend id.'),
  weight: z.number().int().min(0),
  priority: z.number().int().min(0),
  upstreamModel: z.string().min(1),
});
export type PoolTargetConfig = z.infer<typeof poolTargetConfig>;

export const poolConfig = z.object({
  id: z.string().min(1).describe('namespace/name of the LLMPool.'),
  model: z.string().min(1),
  aliases: z.array(z.string()),
  targets: z.array(poolTargetConfig),
  scheduling: z.object({
    strategy: z.enum(SCHEDULING_STRATEGIES),
    queue: z.object({
      maxSize: z.number().int().min(0),
      timeoutMs: ms.describe('Longest wait of a standard request.'),
      discipline: z.enum(QUEUE_DISCIPLINES).optional().describe('Absent: fair.'),
      criticalTimeoutMs: ms.optional().describe('Absent: timeoutMs.'),
      sheddableTimeoutMs: ms.optional().describe('Absent: 0.'),
    }),
    overload: z
      .object({ criticalReserve: z.number().min(0).max(0.9), shedOnSaturation: z.boolean() })
      .optional()
      .describe('Absent: no reserve, shedding on saturation in llm-aware pools.'),
    llmAware: z.object({
      weights: z.object({
        queue: z.number(),
        kvCache: z.number(),
        inflight: z.number(),
        prefix: z.number(),
        lora: z.number(),
      }),
      maxQueueDepth: z.number().int().min(0),
      maxKvCacheUsage: z.number().min(0).max(1),
      prefixBlockChars: z.number().int().min(1),
      sessionHeader: z.string().optional(),
      sessionFromUser: z.boolean().optional(),
      prefixIndexEntries: z.number().int().min(1).optional(),
    }),
  }),
  retry: z.object({
    attempts: z.number().int().min(1),
    retryOn: z.array(z.enum(RETRY_ON)),
    perTryTimeoutMs: ms.optional(),
    deadlineMs: ms.optional(),
    backoff: z.object({ baseMs: ms, maxMs: ms }),
    maxRetryAfterMs: ms,
    budget: z.object({ ratio: z.number().min(0).max(1), minPerSecond: z.number().int().min(0) }),
  }),
  outlierDetection: z.object({
    consecutiveFailures: z.number().int().min(1),
    baseEjectionMs: ms,
    maxEjectionMs: ms,
    maxEjectionPercent: z.number().int().min(0).max(100),
  }),
});
export type PoolConfig = z.infer<typeof poolConfig>;
export type QueueDiscipline = NonNullable<PoolConfig['scheduling']['queue']['discipline']>;

const limitsConfig = z.object({
  requestsPerMinute: z.number().int().min(0).optional(),
  tokensPerMinute: z.number().int().min(0).optional(),
  concurrentRequests: z.number().int().min(0).optional(),
  tokensPerDay: z.number().int().min(0).optional(),
  tokensPerMonth: z.number().int().min(0).optional(),
  costPerDay: z.number().min(0).optional(),
  costPerMonth: z.number().min(0).optional(),
});
export type LimitsConfig = z.infer<typeof limitsConfig>;

export const routeConfig = z.object({
  id: z.string().min(1).describe('namespace/policy#rule.'),
  policy: z.string().min(1).describe('namespace/name of the RoutePolicy.'),
  name: z.string(),
  match: z.object({
    model: z.object({ type: z.enum(['Exact', 'Prefix']), value: z.string() }).optional(),
    headers: z.array(
      z
        .object({ name: z.string(), type: z.enum(['Exact', 'RegularExpression']), value: z.string() })
        .refine((h) => h.type !== 'RegularExpression' || re2SyntaxError(h.value) === undefined, {
          message: 'must be an RE2 regular expression',
          path: ['value'],
        }),
    ),
    tenants: z.array(z.string()).optional(),
  }),
  splits: z.array(z.object({ pool: z.string(), weight: z.number().int().min(0) })).describe('Empty: by model name.'),
  fallbacks: z.array(z.string()).describe('Pool ids.'),
  modelRewrite: z.string().optional(),
  systemPrompt: z.object({ text: z.string(), mode: z.enum(['prepend', 'append', 'replace']) }).optional(),
  guardrails: z.array(z.string()).optional().describe('Ids of the guardrails of its policy this rule names.'),
  priority: z.enum(PRIORITY_CLASSES).optional(),
});
export type RouteConfig = z.infer<typeof routeConfig>;

export const guardrailConfig = z
  .object({
    id: z.string().min(1).describe('namespace/policy/name.'),
    phases: z.array(z.enum(GUARDRAIL_PHASES)).min(1),
    streamWindowChars: z.number().int().min(1),
    local: z.object({ mask: z.array(z.enum(DETECTOR_KINDS)), deny: z.array(z.enum(DETECTOR_KINDS)) }).optional(),
    external: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        timeoutMs: ms,
        failureMode: z.enum(['open', 'closed']),
        maxConcurrency: z.number().int().min(1),
        token: z.string().optional().describe('Bearer token sent to the service; secret.'),
      })
      .optional(),
  })
  .refine((g) => (g.local === undefined) !== (g.external === undefined), {
    message: 'exactly one of local or external',
  });
export type GuardrailConfig = z.infer<typeof guardrailConfig>;

export const policyConfig = z.object({
  id: z.string().min(1).describe('namespace/name of the RoutePolicy.'),
  authRequired: z.boolean(),
  pools: z
    .array(z.string())
    .describe('Ids of the pools the policy covers: its protection applies to every request they serve.'),
  tenants: z.array(
    z.object({
      name: z.string(),
      keyHashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).describe('SHA-256 of each API key, hex.'),
      models: z.array(z.string()).optional(),
      limits: limitsConfig.optional(),
      keyLimits: limitsConfig.optional(),
      guardrails: z.array(z.string()).optional().describe('Ids of the guardrails of its policy this tenant names.'),
      priority: z.enum(PRIORITY_CLASSES).optional(),
      weight: z.number().int().min(1).optional().describe('Weighted fair queueing share; absent: 1.'),
      priorityHeader: z
        .object({ name: z.string().min(1).describe('Lower-case.'), allowed: z.array(z.enum(PRIORITY_CLASSES)).min(1) })
        .optional(),
    }),
  ),
  rateLimits: z.array(
    z.object({
      scope: z.enum(['key', 'tenant', 'model', 'global']),
      model: z.string().optional(),
      limits: limitsConfig,
    }),
  ),
  cache: z
    .object({ enabled: z.boolean(), ttlMs: ms, maxEntryBytes: z.number().int().min(1), nonDeterministic: z.boolean() })
    .optional(),
  failureMode: z.enum(['open', 'closed']),
  guardrails: z.array(guardrailConfig).optional(),
});
export type PolicyConfig = z.infer<typeof policyConfig>;

export const proxyConfig = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  version: z.string().regex(/^[0-9a-f]{16,64}$/),
  generatedAt: z.string(),
  backends: z.array(backendConfig),
  pools: z.array(poolConfig),
  routes: z.array(routeConfig),
  policies: z.array(policyConfig),
  // Last on purpose: the operator sends one snapshot to many proxies that differ only here, and keeps the JSON
  // (and its hash state) of everything before it once per snapshot (operator/src/push/bodies.ts).
  fleet: fleetView.optional(),
});
export type ProxyConfig = z.infer<typeof proxyConfig>;
