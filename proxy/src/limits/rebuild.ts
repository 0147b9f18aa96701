/**
 * Budgets rebuilt from the usage ledger. A budget counter (tokens or cost per UTC day or month) lives in Redis; when
 * Redis loses it (restart, flush, failover to an empty replica) the next request that takes it finds its seed marker
 * missing, and this rebuilds the counter's value from the ledger: the usage of the requests it counts (its pools,
 * tenant or key) from the start of its period until now. The store raises the counter to that once per loss,
 * whichever proxy comes first (LimitStore.seed). Concurrent requests share one ledger query per counter; a query that fails or takes longer
 * than the timeout leaves the counter as Redis has it (the request goes on) and is not retried for a few seconds.
 * Exact up to the requests in flight at the loss and those the ledger had not written yet (its flush interval);
 * never counted twice (the counter is raised to the ledger's sum, not added to).
 */
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import type { ProxyConfig } from '../../../shared/src/proxyconfig/index.js';
import { COST_UNITS } from './counters.js';
import type { CounterSpec, LedgerScope } from './types.js';

/** The ledger's sums for the requests a budget counts (ledger/query.ts `budgetUsage`). */
export type BudgetUsage = (scope: {
  pools: readonly string[];
  tenant?: { policy: string; name: string } | undefined;
  keyId?: string | undefined;
  from: Date;
  to: Date;
}) => Promise<{ tokens: number; cost: number }>;

/** What a rebuild reads of the snapshot served now: which pools a policy covers, and the names of each pool. */
export interface CoverageView {
  policies: ReadonlyArray<Pick<ProxyConfig['policies'][number], 'id' | 'pools'>>;
  pools: ReadonlyArray<Pick<ProxyConfig['pools'][number], 'id' | 'model' | 'aliases'>>;
}

/** The amount to seed each counter with, or undefined when the ledger could not tell in time. */
export type BudgetRebuild = (counters: readonly CounterSpec[]) => Promise<number[] | undefined>;

export interface BudgetRebuildOptions {
  usage: BudgetUsage;
  /** The snapshot served now (which pools a policy covers). */
  config: () => CoverageView | undefined;
  log: Logger;
  /** Longest wait for the ledger (default 2 s). */
  timeoutMs?: number;
  /** After a failure, how long counters stay unseeded before the ledger is asked again (default 5 s). */
  retryAfterMs?: number;
  /** Clock of the period's end, the timeout and the pause after a failure (default: the system clock). */
  clock?: Clock;
  onResult?(result: 'seeded' | 'failed', counters: number): void;
}

/** The pools whose requests a scope counts: those its policy covers, answering to its model when it has one. */
function poolsOf(config: CoverageView, scope: LedgerScope): string[] {
  const covered = config.policies.find((p) => p.id === scope.policy)?.pools ?? [];
  const model = scope.model;
  if (model === undefined) return [...covered];
  return covered.filter((id) => {
    const p = config.pools.find((x) => x.id === id);
    return p !== undefined && [p.model, ...p.aliases, p.id, p.id.slice(p.id.indexOf('/') + 1)].includes(model);
  });
}

/** Creates the rebuild of budget counters from the ledger. */
export function createBudgetRebuild(o: BudgetRebuildOptions): BudgetRebuild {
  const clock = o.clock ?? systemClock;
  const now = () => clock.now();
  const inFlight = new Map<string, Promise<number>>();
  let failedAt = Number.NEGATIVE_INFINITY;

  const amountOf = (c: CounterSpec, config: CoverageView): Promise<number> => {
    const scope = c.ledger;
    if (!scope) return Promise.resolve(0);
    let p = inFlight.get(c.key);
    if (!p) {
      p = o
        .usage({
          pools: poolsOf(config, scope),
          tenant: scope.tenant,
          keyId: scope.keyId,
          from: new Date(scope.periodStart),
          to: new Date(now()),
        })
        .then((u) => (scope.cost ? Math.round(u.cost * COST_UNITS) : u.tokens))
        .finally(() => inFlight.delete(c.key));
      inFlight.set(c.key, p);
    }
    return p;
  };

  return async (counters) => {
    const config = o.config();
    if (!config || now() - failedAt < (o.retryAfterMs ?? 5000)) return undefined;
    let timer: Timer | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = clock.after(o.timeoutMs ?? 2000, () => resolve(undefined));
    });
    try {
      const amounts = await Promise.race([Promise.all(counters.map((c) => amountOf(c, config))), timeout]);
      if (!amounts) throw new Error('the ledger did not answer in time');
      o.onResult?.('seeded', counters.length);
      return amounts;
    } catch (e) {
      if (now() - failedAt >= (o.retryAfterMs ?? 5000))
        o.log.warn(
          { reason: e instanceof Error ? e.message : String(e), counters: counters.length },
          'budgets: could not rebuild from the usage ledger; they count from zero until it answers',
        );
      failedAt = now();
      o.onResult?.('failed', counters.length);
      return undefined;
    } finally {
      timer?.cancel();
    }
  };
}
