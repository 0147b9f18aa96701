/**
 * LLMPool: a public model name (plus aliases) served by weighted, prioritised backends, with the scheduling,
 * retry and outlier-detection policy used across their endpoints.
 */
import { z } from 'zod';
import {
  API_VERSION,
  condition,
  duration,
  headerName,
  keyedList,
  objectMeta,
  objectName,
  uniqueList,
  withRules,
} from './common.js';

export const SCHEDULING_STRATEGIES = [
  'weighted-round-robin',
  'least-connections',
  'peak-ewma',
  'random',
  'llm-aware',
] as const;
export const schedulingStrategy = z.enum(SCHEDULING_STRATEGIES);
export type SchedulingStrategy = z.infer<typeof schedulingStrategy>;

/** How waiting requests are ordered: by priority class and tenant share, or in arrival order. */
export const QUEUE_DISCIPLINES = ['fair', 'fifo'] as const;

/** The wait of one priority class. */
const queueClass = (name: string, byDefault: string) =>
  z
    .object({ timeout: duration(`Longest wait of a ${name} request for a free endpoint (default ${byDefault}).`) })
    .strict()
    .optional()
    .describe(`Queueing of ${name} requests.`);

export const backendRef = z
  .object({
    name: objectName('Name of an LLMBackend in the same namespace.'),
    weight: z.number().int().min(0).max(1000).default(1).describe('Relative weight of each of its replicas.'),
    priority: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe('Failover tier: 0 is preferred; tier n+1 gets traffic only when tier n is unhealthy or full.'),
    model: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe("Which of the backend's models serves this pool; defaults to the pool's model or the only one."),
  })
  .strict();

export const llmAwareWeights = z
  .object({
    queue: z.number().min(0).max(100).default(2).describe('Weight of the waiting-queue depth scorer.'),
    kvCache: z.number().min(0).max(100).default(1).describe('Weight of the KV-cache headroom scorer.'),
    inflight: z.number().min(0).max(100).default(1).describe("Weight of the proxy's own in-flight count scorer."),
    prefix: z.number().min(0).max(100).default(3).describe('Weight of the prefix-cache affinity scorer.'),
    lora: z.number().min(0).max(100).default(1).describe('Weight of the LoRA adapter affinity scorer.'),
  })
  .strict();

export const scheduling = z
  .object({
    strategy: schedulingStrategy.default('least-connections').describe('How an endpoint is picked per request.'),
    queue: z
      .object({
        maxSize: z
          .number()
          .int()
          .min(0)
          .max(100000)
          .default(100)
          .describe('Requests that may wait when all are full, every class and tenant together.'),
        timeout: duration('Longest wait of a standard request for a free endpoint before a 503.').default('30s'),
        discipline: z
          .enum(QUEUE_DISCIPLINES)
          .default('fair')
          .describe(
            'fair: priority classes strictly ordered, tenants of a class served by weighted fair queueing, a full queue sheds the lowest class and the largest backlog first; fifo: one queue in arrival order, classes and tenants ignored.',
          ),
        classes: z
          .object({
            critical: queueClass('critical', 'the queue timeout'),
            sheddable: queueClass('sheddable', "0s: refused at once when no slot is free ('load shedding')"),
          })
          .strict()
          .optional()
          .describe('Waits of the other priority classes (standard requests wait up to timeout).'),
      })
      .strict()
      .optional()
      .describe('Queueing of requests while every endpoint is at maxConcurrency (docs/priority.md).'),
    overload: z
      .object({
        criticalReserve: z
          .number()
          .min(0)
          .max(0.9)
          .default(0)
          .describe(
            "Share of the pool's concurrency (its replicas' maxConcurrency) only critical requests may take: standard and sheddable ones queue once the rest is in use.",
          ),
        shedOnSaturation: z
          .boolean()
          .optional()
          .describe(
            "Refuse sheddable requests (503 with Retry-After) while no replica has room and one reports a queue or KV-cache use above llmAware's maxQueueDepth / maxKvCacheUsage in its scraped metrics (default: true in llm-aware pools; set true to have another strategy's replicas scraped for it).",
          ),
      })
      .strict()
      .optional()
      .describe('Admission by priority class when the pool is saturated (docs/priority.md).'),
    llmAware: z
      .object({
        weights: llmAwareWeights.optional().describe('Relative weights of the scorers.'),
        maxQueueDepth: z
          .number()
          .int()
          .min(0)
          .max(100000)
          .default(8)
          .describe('Saturation: waiting requests above which a replica is skipped.'),
        maxKvCacheUsage: z
          .number()
          .min(0)
          .max(1)
          .default(0.9)
          .describe('Saturation: KV-cache use above which a replica is skipped.'),
        prefixBlockChars: z
          .number()
          .int()
          .min(16)
          .max(65536)
          .default(256)
          .describe('Prefix index block size in characters.'),
        sessionHeader: headerName('Header whose value pins a session to a replica (e.g. x-session-id).').optional(),
        sessionFromUser: z
          .boolean()
          .default(false)
          .describe("Pin a session by the request's `user` field when the session header is absent."),
        prefixIndexEntries: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(65536)
          .describe('Prefix blocks (and sessions) remembered per pool in each proxy, least recently used dropped.'),
      })
      .strict()
      .optional()
      .describe('Parameters of the llm-aware strategy (vLLM / llama.cpp metrics, prefix affinity).'),
  })
  .strict()
  .describe('Endpoint scheduling.');

export const RETRY_ON = ['connect-failure', 'timeout', '429', '5xx'] as const;

export const retry = z
  .object({
    attempts: z.number().int().min(1).max(10).default(3).describe('Upstream attempts per request, the first included.'),
    retryOn: uniqueList(z.array(z.enum(RETRY_ON)).max(4))
      .default(['connect-failure', 'timeout', '429', '5xx'])
      .describe('Causes that are retried.'),
    perTryTimeout: duration('Deadline of one attempt until its first byte.').optional(),
    deadline: duration('Overall deadline of a request across attempts until its first byte.').optional(),
    backoff: z
      .object({
        base: duration('First backoff between attempts.').default('25ms'),
        max: duration('Largest backoff.').default('1s'),
      })
      .strict()
      .optional()
      .describe('Exponential backoff between attempts, with jitter.'),
    maxRetryAfter: duration('Largest Retry-After honoured; longer ones fail over instead of waiting.').default('10s'),
    budget: z
      .object({
        ratio: z.number().min(0).max(1).default(0.2).describe('Share of requests that may be retries.'),
        minPerSecond: z.number().int().min(0).max(100000).default(10).describe('Retries always allowed per second.'),
      })
      .strict()
      .optional()
      .describe('Retry budget: caps retries to a share of traffic so an outage cannot amplify load.'),
  })
  .strict()
  .describe('Retries and failover across endpoints and priority tiers.');

export const outlierDetection = z
  .object({
    consecutiveFailures: z.number().int().min(1).max(1000).default(5).describe('Consecutive failures that eject.'),
    baseEjectionTime: duration('First ejection time; it grows with each repeated ejection.').default('30s'),
    maxEjectionTime: duration('Longest ejection time.').default('300s'),
    maxEjectionPercent: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(50)
      .describe('Most endpoints of the pool ejected at once.'),
  })
  .strict()
  .describe('Passive outlier detection.');

export const llmPoolSpec = withRules(
  z
    .object({
      model: z.string().min(1).max(256).describe('Public model name clients send in requests.'),
      aliases: uniqueList(z.array(z.string().min(1).max(256)).max(64))
        .optional()
        .describe('Other names that reach this pool.'),
      backendRefs: keyedList(z.array(backendRef).min(1).max(256), 'name').describe(
        'Backends serving the pool, each at most once.',
      ),
      scheduling: scheduling.optional(),
      retry: retry.optional(),
      outlierDetection: outlierDetection.optional(),
    })
    .strict(),
  [
    {
      cel: 'self.backendRefs.exists(r, !has(r.weight) || r.weight > 0)',
      message: 'at least one backendRef must have a positive weight',
      check: (s) => s.backendRefs.some((r) => r.weight > 0),
      field: '.backendRefs',
    },
    {
      cel: '!has(self.aliases) || !(self.model in self.aliases)',
      message: 'aliases must not repeat the model name',
      check: (s) => !(s.aliases ?? []).includes(s.model),
      field: '.aliases',
    },
  ],
).describe('LLMPool maps a public model name to weighted, prioritised backends.');
export type LLMPoolSpec = z.infer<typeof llmPoolSpec>;

export const llmPoolStatus = z
  .object({
    conditions: z.array(condition).max(16).optional(),
    readyEndpoints: z.number().int().min(0).optional().describe('Endpoints ready to take traffic.'),
    totalEndpoints: z.number().int().min(0).optional().describe('Endpoints known across all backends.'),
    endpoints: z.string().optional().describe('Ready/total endpoints, for display (e.g. 3/4).'),
    proxiesInSync: z.string().optional().describe('Proxies serving the current snapshot, as in-sync/total.'),
    observedGeneration: z.number().int().optional().describe('metadata.generation the status was computed for.'),
  })
  .describe('Observed state of the pool.');
export type LLMPoolStatus = z.infer<typeof llmPoolStatus>;

export const llmPool = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('LLMPool'),
  metadata: objectMeta,
  spec: llmPoolSpec,
  status: llmPoolStatus.optional(),
});
export type LLMPool = z.infer<typeof llmPool>;
