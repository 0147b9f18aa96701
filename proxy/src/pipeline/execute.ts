/**
 * The request pipeline: resolve the route, then attempt upstreams. Retries go to another endpoint where one
 * exists, then down the pool's priority tiers (both in run-pool.ts), then along the RoutePolicy fallback chain
 * (here). A retry budget shared by the whole call caps retries; retries never happen once bytes reached the
 * client. Error responses after attempts carry x-switchyard-attempts/-endpoint/-fallback like committed ones.
 */
import { errors, GatewayError } from '../errors.js';
import { withAttemptHeaders } from '../resilience/attempt-headers.js';
import { recordLatency } from '../resilience/latency.js';
import { RetryBudgets } from '../resilience/retry-budget.js';
import { WaitQueues } from '../resilience/wait-queue.js';
import { resolveRoute } from '../routing/resolve.js';
import { type CallRun, runPool } from './run-pool.js';
import type { PipelineDeps, ProxyCall } from './types.js';

/** Per-proxy resilience state, kept per PipelineDeps (one per app) so proxies in one process stay apart. */
interface ProxyResilience {
  budgets: RetryBudgets;
  queues: WaitQueues;
  /** `deps` whose onFirstByte also feeds the endpoint's latency estimate. */
  attemptDeps: PipelineDeps;
}

const resilienceByDeps = new WeakMap<PipelineDeps, ProxyResilience>();

function resilienceOf(deps: PipelineDeps): ProxyResilience {
  let r = resilienceByDeps.get(deps);
  if (!r) {
    const hooks = deps.hooks;
    const attemptDeps: PipelineDeps = {
      ...deps,
      hooks: {
        ...hooks,
        onFirstByte(call, member, ttfbMs) {
          recordLatency(member.endpoint, ttfbMs, Date.now());
          hooks?.onFirstByte?.(call, member, ttfbMs);
        },
      },
    };
    r = { budgets: new RetryBudgets(), queues: new WaitQueues(), attemptDeps };
    resilienceByDeps.set(deps, r);
  }
  return r;
}

/** Runs `call` to completion: the response (or the error) has been written when this resolves. */
export async function executeCall(deps: PipelineDeps, call: ProxyCall): Promise<void> {
  const plan = call.plan ?? resolveRoute(call.runtime, { model: call.model, header: call.header });
  call.plan = plan;
  const primary = plan.pools[0];
  call.state.pool = primary?.config.id;
  if (!primary) throw errors.unavailable(`no pool serves model '${call.model}'`);
  const r = resilienceOf(deps);
  const budget = r.budgets.for(primary.config.id, primary.config.retry.budget);
  budget.recordRequest(Date.now());
  const overall = primary.config.retry.deadlineMs;
  const run: CallRun = {
    deps: r.attemptDeps,
    call,
    budget,
    queues: r.queues,
    publicModel: plan.publicModel,
    deadline: overall !== undefined ? call.state.startedAt + overall : Number.POSITIVE_INFINITY,
    lastError: undefined,
    lastCause: undefined,
  };
  try {
    for (const [i, pool] of plan.pools.entries()) {
      if (i > 0) {
        const from = plan.pools[i - 1]?.config.id ?? '';
        call.state.fallback = pool.config.id;
        call.state.pool = pool.config.id;
        deps.hooks?.onFallback?.(call, from, pool.config.id);
      }
      const result = await runPool(run, pool, i === plan.pools.length - 1);
      if (result === 'done' || call.sink.closed) return;
    }
    throw run.lastError ?? errors.unavailable(`no healthy endpoint is available for model '${call.model}'`);
  } catch (e) {
    throw e instanceof GatewayError && !call.sink.headSent ? withAttemptHeaders(e, call.state) : e;
  }
}
