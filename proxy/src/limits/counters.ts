/**
 * Which counters a request must fit in under one policy: the caller's tenant limits and key limits (tenant.keyLimits)
 * when the policy holds its key, and the policy's rateLimits rules (scope key | tenant | model | global, optionally
 * for one model) when it covers a pool the request may be served by. Counters belong to the policy that declares
 * them. Anonymous requests skip key- and tenant-scoped counters. Model-scoped counters count the pool (by its model
 * name), whichever of its names the client used.
 *
 * Redis keys carry a hash tag per subject — `{policy|k|key}`, `{policy|t|tenant}`, `{policy|m|model}`, `{policy|g}`
 * — so in a Redis Cluster the counters of one subject share a slot (one script takes them together) while different
 * keys, tenants and models spread over the cluster. A request's counters span at most four tags per policy.
 */
import type { LimitsConfig, PolicyConfig } from '../../../shared/src/proxyconfig/index.js';
import { modelAllowed } from '../auth/model-access.js';
import type { CounterSpec, LedgerScope } from './types.js';

export interface CounterInput {
  policy: PolicyConfig;
  /** The caller's tenant entry when `policy` holds its key (its limits and keyLimits). */
  tenant?: { name: string; limits?: LimitsConfig | undefined; keyLimits?: LimitsConfig | undefined } | undefined;
  /** The caller, when a known key was presented (possibly a tenant of another policy). */
  identity?: { policy: string; tenant: string; keyId: string } | undefined;
  /**
   * When the policy covers the pool: the pool's names (its model name first, then aliases and ids) and the names
   * the client asked for and sees; rateLimits with a `model` apply when it matches one of them. Undefined: the
   * policy's rateLimits do not apply.
   */
  models?: readonly string[] | undefined;
  /** Estimated input + output tokens reserved at admission. */
  tokens: number;
  /** Safety expiry of a concurrency lease that is never released (crashed replica). */
  leaseMs: number;
  now: number;
}

/** Cost counters count millionths of the pricing currency, so Redis can add integers. */
export const COST_UNITS = 1_000_000;

const WINDOW_MS = 60_000;

type BudgetMetric = Extract<CounterSpec['metric'], 'tokensPerDay' | 'tokensPerMonth' | 'costPerDay' | 'costPerMonth'>;

/** Budgets: fixed UTC periods (day, month) of tokens or cost. `key` names the counter in Redis. */
const BUDGETS: ReadonlyArray<{ metric: BudgetMetric; key: string; period: 'day' | 'month'; cost: boolean }> = [
  { metric: 'tokensPerDay', key: 'tpd', period: 'day', cost: false },
  { metric: 'tokensPerMonth', key: 'tpmo', period: 'month', cost: false },
  { metric: 'costPerDay', key: 'costd', period: 'day', cost: true },
  { metric: 'costPerMonth', key: 'cost', period: 'month', cost: true },
];

const budgetOf = (m: CounterSpec['metric']) => BUDGETS.find((b) => b.metric === m);
/** Counters that are budgets (a 429 from them is not worth retrying before the period ends). */
export const isBudgetMetric = (m: CounterSpec['metric']): boolean => budgetOf(m) !== undefined;
/** Counters that count cost (millionths of the pricing currency) rather than tokens or requests. */
export const isCostMetric = (m: CounterSpec['metric']): boolean => budgetOf(m)?.cost === true;
/** Counters that count tokens (settled from the real usage): TPM and the token budgets. */
export const isTokenMetric = (m: CounterSpec['metric']): boolean => m === 'tokens' || budgetOf(m)?.cost === false;

function utcPeriods(now: number) {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  return {
    day: `${y}${String(m + 1).padStart(2, '0')}${String(day).padStart(2, '0')}`,
    dayStart: Date.UTC(y, m, day),
    monthStart: Date.UTC(y, m, 1),
    dayEndsIn: Date.UTC(y, m, day + 1) - now,
    month: `${y}${String(m + 1).padStart(2, '0')}`,
    monthEndsIn: Date.UTC(y, m + 1, 1) - now,
  };
}

/** Who a counter counts, as the ledger can select it (budgets only). */
type Caller = Pick<LedgerScope, 'model' | 'tenant' | 'keyId'>;

function countersOf(
  limits: LimitsConfig,
  prefix: string,
  scope: string,
  subject: string,
  input: CounterInput,
  out: CounterSpec[],
  caller: Caller,
): void {
  const base = { scope, subject };
  if (limits.requestsPerMinute !== undefined)
    out.push({
      ...base,
      key: `${prefix}:rpm`,
      kind: 'window',
      metric: 'requests',
      limit: limits.requestsPerMinute,
      amount: 1,
      param: WINDOW_MS,
      skipOnHit: false,
    });
  if (limits.tokensPerMinute !== undefined)
    out.push({
      ...base,
      key: `${prefix}:tpm`,
      kind: 'window',
      metric: 'tokens',
      limit: limits.tokensPerMinute,
      amount: input.tokens,
      param: WINDOW_MS,
      skipOnHit: true,
    });
  if (limits.concurrentRequests !== undefined)
    out.push({
      ...base,
      key: `${prefix}:conc`,
      kind: 'concurrency',
      metric: 'concurrent',
      limit: limits.concurrentRequests,
      amount: 1,
      param: input.leaseMs,
      skipOnHit: true,
    });
  const budgets = BUDGETS.filter((b) => limits[b.metric] !== undefined);
  if (budgets.length === 0) return;
  const p = utcPeriods(input.now);
  for (const b of budgets) {
    const limit = limits[b.metric] as number;
    out.push({
      ...base,
      key: `${prefix}:${b.key}:${b.period === 'day' ? p.day : p.month}`,
      kind: 'fixed',
      metric: b.metric,
      // Cost budgets are checked at admission (nothing reserved: the cost is known only after the answer) and
      // charged when the request settles; token budgets reserve the estimate like TPM.
      limit: b.cost ? Math.round(limit * COST_UNITS) : limit,
      amount: b.cost ? 0 : input.tokens,
      param: b.period === 'day' ? p.dayEndsIn : p.monthEndsIn,
      skipOnHit: true,
      ledger: {
        periodStart: b.period === 'day' ? p.dayStart : p.monthStart,
        policy: input.policy.id,
        ...caller,
        cost: b.cost,
      },
    });
  }
}

/** The Redis key stem of a subject's counters: its hash tag and what follows (`:t`, `:k`, `:r<rule>`). */
const stem = (keyPrefix: string, policy: string, subject: string, rest: string) =>
  `${keyPrefix}l:{${policy}|${subject}}:${rest}`;

/** The counters of one request under `input.policy`, with Redis keys under `keyPrefix`. */
export function countersFor(input: CounterInput, keyPrefix: string): CounterSpec[] {
  const out: CounterSpec[] = [];
  const pol = input.policy.id;
  const t = input.tenant;
  const who = input.identity;
  const own = { policy: pol, name: t?.name ?? '' };
  if (t?.limits)
    countersOf(t.limits, stem(keyPrefix, pol, `t|${t.name}`, 't'), 'tenant', t.name, input, out, { tenant: own });
  if (t?.keyLimits && who)
    countersOf(t.keyLimits, stem(keyPrefix, pol, `k|${who.keyId}`, 'k'), 'key', t.name, input, out, {
      keyId: who.keyId,
    });
  const models = input.models;
  if (!models) return out;
  // A tenant of another policy is counted apart from a tenant of the same name here.
  const tenantKey = who && (who.policy === pol ? who.tenant : `${who.policy}/${who.tenant}`);
  input.policy.rateLimits.forEach((r, i) => {
    if (r.model !== undefined && !modelAllowed([r.model], models)) return;
    const rule = `r${i}`;
    switch (r.scope) {
      case 'key':
        if (who)
          countersOf(r.limits, stem(keyPrefix, pol, `k|${who.keyId}`, rule), 'key', who.tenant, input, out, {
            model: r.model,
            keyId: who.keyId,
          });
        return;
      case 'tenant':
        if (who)
          countersOf(r.limits, stem(keyPrefix, pol, `t|${tenantKey}`, rule), 'tenant', who.tenant, input, out, {
            model: r.model,
            tenant: { policy: who.policy, name: who.tenant },
          });
        return;
      case 'model': {
        const model = r.model ?? models[0] ?? '';
        countersOf(r.limits, stem(keyPrefix, pol, `m|${model}`, rule), 'model', model, input, out, { model });
        return;
      }
      case 'global':
        countersOf(r.limits, stem(keyPrefix, pol, 'g', rule), 'global', 'all requests', input, out, {
          model: r.model,
        });
    }
  });
  return out;
}
