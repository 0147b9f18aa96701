/**
 * RoutePolicy: who may call what and how. Rules match requests (model name, headers, tenant) and send them to
 * pools (with traffic splits and a fallback chain); requests no rule matches go to the pool whose model or alias
 * equals the model name. The policy covers every pool its rules can send to, and its auth, rate limits, cache and
 * system prompts apply to every request those pools serve, whatever name or path led there (docs/governance.md).
 */
import { z } from 'zod';
import { re2SyntaxError } from '../../matching/re2.js';
import {
  API_VERSION,
  condition,
  duration,
  headerName,
  keyedList,
  objectMeta,
  objectName,
  secretKeyRef,
  uniqueList,
  withRules,
} from './common.js';
import { guardrail, guardrailNames } from './guardrail.js';

export const modelMatch = z
  .object({
    type: z.enum(['Exact', 'Prefix']).default('Exact').describe('How value is compared with the requested model.'),
    value: z.string().min(1).max(256).describe('Model name, or its prefix.'),
  })
  .strict();

export const headerMatch = withRules(
  z
    .object({
      name: headerName('Header name (case-insensitive).'),
      type: z
        .enum(['Exact', 'RegularExpression'])
        .default('Exact')
        .describe('How value is compared: equal, or matched as a whole by an RE2 regular expression.'),
      value: z.string().max(4096).describe('Value to compare with, or the RE2 pattern.'),
    })
    .strict(),
  [
    {
      // CEL compiles a dynamic pattern with Go's RE2 when the rule runs: a pattern that does not compile fails it.
      cel: "!has(self.type) || self.type != 'RegularExpression' || ''.findAll(self.value).size() >= 0",
      message: 'must be an RE2 regular expression',
      check: (h) => h.type !== 'RegularExpression' || re2SyntaxError(h.value) === undefined,
      field: '.value',
    },
  ],
);

/** Priority classes of requests, highest first: the order a saturated pool serves them in (docs/priority.md). */
export const PRIORITY_CLASSES = ['critical', 'standard', 'sheddable'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];
/** The header a tenant's clients set their class with when its policy allows it and names none. */
export const DEFAULT_PRIORITY_HEADER = 'x-switchyard-priority';

const priorityClass = (description: string) => z.enum(PRIORITY_CLASSES).optional().describe(description);

export const priorityHeader = z
  .object({
    name: headerName(`Request header carrying the class (default ${DEFAULT_PRIORITY_HEADER}).`).optional(),
    allowed: uniqueList(z.array(z.enum(PRIORITY_CLASSES)).min(1).max(3)).describe(
      'Classes the tenant may ask for; any other value (or none) leaves the class the policy gives.',
    ),
  })
  .strict();

export const routeMatch = z
  .object({
    model: modelMatch.optional().describe('Requested model; omitted matches every model.'),
    headers: z.array(headerMatch).max(16).optional().describe('All must match.'),
    tenants: z.array(z.string().min(1).max(128)).max(64).optional().describe('Authenticated tenant is one of these.'),
  })
  .strict();

export const poolTarget = z
  .object({
    name: objectName('Name of an LLMPool in the same namespace.'),
    weight: z.number().int().min(0).max(10000).default(1).describe('Share of matched traffic (A/B, canary).'),
  })
  .strict();

export const systemPrompt = z
  .object({
    text: z.string().min(1).max(65536).describe('System prompt text.'),
    mode: z.enum(['prepend', 'append', 'replace']).default('prepend').describe("How it combines with the client's."),
  })
  .strict();

export const routeRule = withRules(
  z
    .object({
      name: z.string().max(128).optional().describe('Name used in metrics and headers.'),
      match: routeMatch.optional().describe('What the rule matches; omitted matches everything.'),
      pools: keyedList(z.array(poolTarget).max(16), 'name')
        .optional()
        .describe('Pools the traffic is split across; omitted routes to the pool named by the requested model.'),
      fallbacks: uniqueList(z.array(objectName('Pool tried when the previous one failed.')).max(8))
        .optional()
        .describe('Fallback chain of pools, tried in order after the selected pool fails.'),
      modelRewrite: z
        .string()
        .min(1)
        .max(256)
        .optional()
        .describe("Model name every answer reports to the client; the upstream still gets its backend's model name."),
      systemPrompt: systemPrompt
        .optional()
        .describe('System prompt written into the requests this rule routes and those the pools it covers serve.'),
      guardrails: guardrailNames(
        "Guardrails (spec.guardrails names) checking the requests the pools this rule covers serve, when the rule's header and tenant conditions hold.",
      ),
      priority: priorityClass(
        "Priority class of the requests this rule routes and of those the pools it covers serve when the rule's conditions hold (before the tenant's).",
      ),
    })
    .strict(),
  [
    {
      cel: '!has(self.pools) || size(self.pools) == 0 || self.pools.exists(p, !has(p.weight) || p.weight > 0)',
      message: 'at least one pool must have a positive weight',
      check: (r) => (r.pools ?? []).length === 0 || (r.pools ?? []).some((p) => p.weight > 0),
      field: '.pools',
    },
    {
      // With a split, a fallback may be one of the split's pools (the others fall back to it); a rule with one
      // pool falling back to that pool is a loop the proxy would skip.
      cel: '!has(self.fallbacks) || !has(self.pools) || size(self.pools) != 1 || !(self.pools[0].name in self.fallbacks)',
      message: "a fallback must not be the rule's own pool",
      check: (r) => r.pools?.length !== 1 || !(r.fallbacks ?? []).includes(r.pools[0]?.name ?? ''),
      field: '.fallbacks',
    },
  ],
);

/** Largest number accepted in a limit: far beyond any real limit, and exact in a double. */
const LIMIT_MAX = 1e12;

export const limits = z
  .object({
    requestsPerMinute: z.number().int().min(0).max(LIMIT_MAX).optional().describe('Requests per minute.'),
    tokensPerMinute: z.number().int().min(0).max(LIMIT_MAX).optional().describe('Input + output tokens per minute.'),
    concurrentRequests: z.number().int().min(0).max(LIMIT_MAX).optional().describe('Requests in flight at once.'),
    tokensPerDay: z.number().int().min(0).max(LIMIT_MAX).optional().describe('Token budget per UTC day.'),
    tokensPerMonth: z.number().int().min(0).max(LIMIT_MAX).optional().describe('Token budget per UTC month.'),
    costPerDay: z
      .number()
      .min(0)
      .max(LIMIT_MAX)
      .optional()
      .describe('Cost budget per UTC day, in the pricing currency.'),
    costPerMonth: z
      .number()
      .min(0)
      .max(LIMIT_MAX)
      .optional()
      .describe('Cost budget per UTC month, in the pricing currency.'),
  })
  .strict();

export const tenant = z
  .object({
    name: z.string().min(1).max(128).describe('Tenant name (a team, an application).'),
    apiKeys: z.array(secretKeyRef).max(256).describe('Secret keys holding the API keys of this tenant.'),
    models: z
      .array(z.string().min(1).max(256))
      .max(256)
      .optional()
      .describe('Models the tenant may use (a trailing * matches a prefix); omitted allows all.'),
    limits: limits.optional().describe('Limits of the whole tenant.'),
    keyLimits: limits.optional().describe('Limits of each of its keys.'),
    guardrails: guardrailNames(
      "Guardrails (spec.guardrails names) checking this tenant's requests to the policy's pools.",
    ),
    priority: priorityClass("Priority class of this tenant's requests to the policy's pools (default standard)."),
    weight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe(
        "The tenant's share of a saturated pool of the policy's relative to other tenants waiting in the same class (weighted fair queueing).",
      ),
    priorityHeader: priorityHeader
      .optional()
      .describe('Lets the tenant choose the class of each request by a header, among allowed ones.'),
  })
  .strict();

export const rateLimitRule = z
  .object({
    scope: z.enum(['key', 'tenant', 'model', 'global']).describe('What one counter is kept for.'),
    model: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Only requests for this model (scope model: each model when omitted).'),
    limits: limits.describe('Limits of one counter.'),
  })
  .strict();

export const cachePolicy = z
  .object({
    enabled: z.boolean().default(true).describe('Cache answers of matched requests.'),
    ttl: duration('How long an answer is served from cache.').default('5m'),
    maxEntryBytes: z.number().int().min(1).max(16_777_216).default(1_048_576).describe('Largest answer cached.'),
    nonDeterministic: z
      .boolean()
      .default(false)
      .describe(
        'Also cache sampled requests (temperature absent or above 0; only temperature 0 and embeddings are cached otherwise).',
      ),
  })
  .strict();

export const routePolicySpec = z
  .object({
    rules: z
      .array(routeRule)
      .min(1)
      .max(64)
      .describe('Routing rules; the most specific match wins. The policy covers every pool they can send to.'),
    auth: z
      .object({
        required: z.boolean().default(true).describe('Reject requests without a valid API key (401).'),
      })
      .strict()
      .optional()
      .describe('API-key authentication of clients.'),
    tenants: keyedList(z.array(tenant).max(256), 'name')
      .optional()
      .describe('Tenants and the API keys that authenticate them.'),
    rateLimits: z.array(rateLimitRule).max(32).optional().describe('Rate limits, exact across proxy replicas.'),
    cache: cachePolicy.optional().describe('Response cache for matched requests.'),
    guardrails: keyedList(z.array(guardrail).max(16), 'name')
      .optional()
      .describe('Content checks that rules and tenants name (docs/guardrails.md).'),
    failureMode: z
      .enum(['open', 'closed'])
      .default('open')
      .describe('When Redis is unreachable: open serves with local limits, closed answers 503.'),
  })
  .strict()
  .describe('RoutePolicy matches requests to pools and applies auth, limits, caching and guardrails.');
export type RoutePolicySpec = z.infer<typeof routePolicySpec>;

export const routePolicyStatus = z
  .object({
    conditions: z.array(condition).max(16).optional(),
    observedGeneration: z.number().int().optional().describe('metadata.generation the status was computed for.'),
  })
  .describe('Observed state of the policy.');
export type RoutePolicyStatus = z.infer<typeof routePolicyStatus>;

export const routePolicy = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('RoutePolicy'),
  metadata: objectMeta,
  spec: routePolicySpec,
  status: routePolicyStatus.optional(),
});
export type RoutePolicy = z.infer<typeof routePolicy>;
