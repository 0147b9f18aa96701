/**
 * OpenAI-style rate-limit headers (`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, reset as "1s",
 * "6m0s", "250ms") and the 429 a denied request gets (with `Retry-After` and `retry-after-ms`).
 */
import { GatewayError } from '../errors.js';
import { COST_UNITS, isBudgetMetric, isCostMetric } from './counters.js';
import type { AdmitResult, CounterSpec } from './types.js';

/** A duration the way OpenAI writes resets: `250ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatReset(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  if (v < 1000) return `${v}ms`;
  const h = Math.floor(v / 3_600_000);
  const m = Math.floor((v % 3_600_000) / 60_000);
  const s = (v % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** `x-ratelimit-*` headers for the tightest requests and tokens counters (by remaining). */
export function rateLimitHeaders(counters: readonly CounterSpec[], result: AdmitResult): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [metric, suffix] of [
    ['requests', 'requests'],
    ['tokens', 'tokens'],
  ] as const) {
    let best = -1;
    counters.forEach((c, i) => {
      if (c.metric !== metric) return;
      const s = result.states[i];
      const b = result.states[best];
      if (s && (!b || s.remaining < b.remaining)) best = i;
    });
    const c = counters[best];
    const s = result.states[best];
    if (!c || !s) continue;
    h[`x-ratelimit-limit-${suffix}`] = String(c.limit);
    h[`x-ratelimit-remaining-${suffix}`] = String(s.remaining);
    h[`x-ratelimit-reset-${suffix}`] = formatReset(s.resetMs);
  }
  return h;
}

const WHAT: Record<CounterSpec['metric'], string> = {
  requests: 'requests per minute',
  tokens: 'tokens per minute',
  concurrent: 'concurrent requests',
  tokensPerDay: 'tokens per day',
  tokensPerMonth: 'tokens per month',
  costPerDay: 'cost per day',
  costPerMonth: 'cost per month',
};

function scopeText(c: CounterSpec): string {
  if (c.scope === 'key') return `this API key of tenant '${c.subject}'`;
  if (c.scope === 'tenant') return `tenant '${c.subject}'`;
  if (c.scope === 'model') return `model '${c.subject}'`;
  return 'all requests';
}

/** The 429 for a request `result` denied. Budgets and requests bigger than a limit are not worth retrying soon. */
export function rateLimitError(counters: readonly CounterSpec[], result: AdmitResult): GatewayError {
  const c = counters[result.denied ?? 0];
  const headers = rateLimitHeaders(counters, result);
  if (!c) return new GatewayError(429, 'rate_limit', 'Rate limit reached.', { code: 'rate_limit_exceeded', headers });
  const limit = isCostMetric(c.metric) ? `${c.limit / COST_UNITS}` : `${c.limit}`;
  if (result.retryAfterMs < 0)
    return new GatewayError(
      429,
      'rate_limit',
      `Request too large: it needs an estimated ${c.amount} tokens, more than the limit of ${limit} ${WHAT[c.metric]} for ${scopeText(c)}. Lower max_tokens or the prompt size.`,
      { code: 'request_too_large_for_limit', shouldRetry: false, headers },
    );
  const budget = isBudgetMetric(c.metric);
  return new GatewayError(
    429,
    'rate_limit',
    `${budget ? 'Budget exhausted' : 'Rate limit reached'}: limit of ${limit} ${WHAT[c.metric]} for ${scopeText(c)}. Please try again in ${formatReset(result.retryAfterMs)}.`,
    {
      code: budget ? 'budget_exceeded' : 'rate_limit_exceeded',
      retryAfterMs: result.retryAfterMs,
      headers,
      ...(budget ? { shouldRetry: false } : {}),
    },
  );
}
