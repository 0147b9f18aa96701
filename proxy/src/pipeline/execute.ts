/**
 * The request pipeline: attempt upstreams for an authorised call, in the priority class and tenant flow it has at the
 * pool its route selected (flow-control/: they order its waits for a slot and decide what overload sheds). Retries go to another endpoint where one exists,
 * then down the pool's priority tiers (both in run-pool.ts), then along the RoutePolicy fallback chain (here). A
 * retry budget shared by the whole call caps retries; retries never happen once bytes reached the client. Error
 * responses after attempts carry x-switchyard-attempts/-endpoint/-fallback like committed ones.
 */
import type { AuthorizedCall } from '../call/call.js';
import { errors, GatewayError } from '../errors.js';
import { priorityOf } from '../flow-control/classify.js';
import { withAttemptHeaders } from '../resilience/attempt-headers.js';
import { type CallRun, runPool } from './run-pool.js';
import type { PipelineDeps } from './types.js';

/** Runs `call` to completion: the response (or the error) has been written when this resolves. */
export async function executeCall(deps: PipelineDeps, call: AuthorizedCall): Promise<void> {
  const plan = call.route;
  const up = call.record.upstream;
  const primary = plan.pools[0];
  up.pool = primary?.config.id;
  if (!primary) throw errors.unavailable(`no pool serves model '${call.model}'`);
  deps.observers.emit('onAnswering', call);
  const budget = deps.budgets.for(primary.config.id, primary.config.retry.budget);
  budget.recordRequest(deps.clock.now());
  const overall = primary.config.retry.deadlineMs;
  const priority = priorityOf(call, primary.config);
  call.record.flow = { cls: priority.cls, source: priority.source, queuedMs: 0 };
  const run: CallRun = {
    deps,
    call,
    priority,
    budget,
    publicModel: plan.publicModel,
    deadline: overall !== undefined ? call.record.startedAt + overall : Number.POSITIVE_INFINITY,
    lastError: undefined,
    lastCause: undefined,
  };
  try {
    for (const [i, pool] of plan.pools.entries()) {
      if (i > 0) {
        const from = plan.pools[i - 1]?.config.id ?? '';
        up.fallback = pool.config.id;
        up.pool = pool.config.id;
        deps.observers.emit('onFallback', call, from, pool.config.id);
      }
      const result = await runPool(run, pool, i === plan.pools.length - 1);
      if (result === 'done' || call.sink.closed) return;
    }
    throw run.lastError ?? errors.unavailable(`no healthy endpoint is available for model '${call.model}'`);
  } catch (e) {
    throw e instanceof GatewayError && !call.sink.headSent ? withAttemptHeaders(e, up) : e;
  }
}
