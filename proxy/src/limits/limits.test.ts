import { describe, expect, it } from 'vitest';
import type { PolicyConfig } from '../../../shared/src/proxyconfig/index.js';
import { COST_UNITS, countersFor } from './counters.js';
import { formatReset, rateLimitError, rateLimitHeaders } from './headers.js';
import type { AdmitResult } from './types.js';

const policy: PolicyConfig = {
  id: 'ns/p',
  authRequired: true,
  pools: ['ns/llama'],
  tenants: [],
  rateLimits: [
    { scope: 'global', limits: { requestsPerMinute: 1000 } },
    { scope: 'model', limits: { tokensPerMinute: 5000 } },
    { scope: 'model', model: 'gpt-*', limits: { requestsPerMinute: 10 } },
    { scope: 'key', limits: { concurrentRequests: 2 } },
  ],
  failureMode: 'open',
};
const now = Date.UTC(2025, 0, 31, 23, 0, 0);

describe('countersFor', () => {
  it('builds tenant, key, model and global counters with scoped keys', () => {
    const c = countersFor(
      {
        policy,
        tenant: {
          name: 'team-a',
          limits: { tokensPerDay: 100, tokensPerMonth: 2000, costPerDay: 0.5, costPerMonth: 2.5 },
          keyLimits: { requestsPerMinute: 3 },
        },
        identity: { policy: 'ns/p', tenant: 'team-a', keyId: 'abcd' },
        models: ['llama'],
        tokens: 42,
        leaseMs: 1000,
        now,
      },
      'sy:',
    );
    expect(c.map((x) => `${x.scope}:${x.metric}:${x.key}`)).toEqual([
      'tenant:tokensPerDay:sy:l:{ns/p|t|team-a}:t:tpd:20250131',
      'tenant:tokensPerMonth:sy:l:{ns/p|t|team-a}:t:tpmo:202501',
      'tenant:costPerDay:sy:l:{ns/p|t|team-a}:t:costd:20250131',
      'tenant:costPerMonth:sy:l:{ns/p|t|team-a}:t:cost:202501',
      'key:requests:sy:l:{ns/p|k|abcd}:k:rpm',
      'global:requests:sy:l:{ns/p|g}:r0:rpm',
      'model:tokens:sy:l:{ns/p|m|llama}:r1:tpm',
      'key:concurrent:sy:l:{ns/p|k|abcd}:r3:conc',
    ]);
    const [day, month, costDay, costMonth] = c;
    expect(day?.amount).toBe(42);
    expect(day?.param).toBe(3_600_000);
    expect(month).toMatchObject({ amount: 42, limit: 2000, param: 3_600_000 }); // the month ends with Jan 31
    expect(costDay).toMatchObject({ amount: 0, limit: 0.5 * COST_UNITS, param: 3_600_000 });
    expect(costMonth?.limit).toBe(2.5 * COST_UNITS);
  });

  it('skips key and tenant scopes for anonymous callers and applies model-filtered rules to matching models', () => {
    const c = countersFor({ policy, models: ['gpt-4o'], tokens: 1, leaseMs: 1000, now }, 'sy:');
    expect(c.map((x) => x.key)).toEqual([
      'sy:l:{ns/p|g}:r0:rpm',
      'sy:l:{ns/p|m|gpt-4o}:r1:tpm',
      'sy:l:{ns/p|m|gpt-*}:r2:rpm',
    ]);
  });
});

describe('rate-limit headers', () => {
  it('formats resets like OpenAI', () => {
    expect(formatReset(250)).toBe('250ms');
    expect(formatReset(1000)).toBe('1s');
    expect(formatReset(1500)).toBe('1.5s');
    expect(formatReset(360_000)).toBe('6m0s');
    expect(formatReset(3_723_000)).toBe('1h2m3s');
  });

  it('reports the tightest counters and builds a 429 with Retry-After', () => {
    const counters = countersFor(
      {
        policy: {
          ...policy,
          rateLimits: [{ scope: 'global', limits: { requestsPerMinute: 10, tokensPerMinute: 100 } }],
        },
        models: ['m'],
        tokens: 5,
        leaseMs: 1000,
        now,
      },
      '',
    );
    const result: AdmitResult = {
      allowed: false,
      denied: 1,
      retryAfterMs: 1200,
      nowMs: now,
      states: [
        { remaining: 4, resetMs: 30_000 },
        { remaining: 0, resetMs: 1200 },
      ],
    };
    expect(rateLimitHeaders(counters, result)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1.2s',
    });
    const e = rateLimitError(counters, result);
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limit_exceeded');
    expect(e.responseHeaders()).toMatchObject({ 'retry-after': '2', 'retry-after-ms': '1200' });
    expect(e.message).toContain('tokens per minute');
  });
});
