/** Metrics of the governance stages (auth, rate limits, cache, Redis); part of METRIC_SPECS. */
import type { MetricSpec } from './metric-specs.js';

const spec = <L extends string>(s: MetricSpec<L>): MetricSpec<L> => s;

export const GOVERNANCE_METRIC_SPECS = {
  auth: spec({
    name: 'switchyard_auth_results_total',
    type: 'counter',
    help: 'API-key authentication results: authenticated, anonymous, missing_key, invalid_key, forbidden.',
    labelNames: ['outcome'],
  }),
  rateLimit: spec({
    name: 'switchyard_rate_limit_decisions_total',
    type: 'counter',
    help: 'Rate-limit decisions of requests a limit applied to: allowed, limited, fail_open (Redis down, local limits), fail_closed (Redis down, 503).',
    labelNames: ['decision', 'tenant'],
  }),
  rateLimitDenials: spec({
    name: 'switchyard_rate_limit_denials_total',
    type: 'counter',
    help: 'Requests denied by a rate limit, by the counter that denied them (scope key|tenant|model|global; limit requests|tokens|concurrent|tokensPerDay|tokensPerMonth|costPerDay|costPerMonth) and where it was kept (redis, local).',
    labelNames: ['scope', 'limit', 'source'],
  }),
  cache: spec({
    name: 'switchyard_cache_results_total',
    type: 'counter',
    help: 'Response-cache results of requests a cache policy applied to: hit, miss, bypass (not cacheable), stored.',
    labelNames: ['result'],
  }),
  redisErrors: spec({
    name: 'switchyard_redis_errors_total',
    type: 'counter',
    help: 'Failed Redis operations (admit, settle) by what the request got (open: local limits, closed: 503, none).',
    labelNames: ['operation', 'mode'],
  }),
  redisUp: spec({
    name: 'switchyard_redis_up',
    type: 'gauge',
    help: '1 while the Redis connection is up, 0 while down; absent when no Redis is configured.',
    labelNames: [],
  }),
} as const;
