/**
 * Attempts within one pool: pick an endpoint (an untried one where possible, tier by tier), wait in the bounded
 * queue when every endpoint is full or for a Retry-After when every one is rate limited, send, learn from the
 * outcome (outlier detection, latency), and decide whether to retry: only retryable causes, within the pool's
 * attempt count, the call's deadline and the retry budget.
 */
import { sleep } from '../../../shared/src/clock.js';
import type { AuthorizedCall } from '../call/call.js';
import type { AttemptOutcome, FailureCause } from '../call/outcome.js';
import type { ShedReason } from '../call/record.js';
import type { PoolRuntime } from '../config/runtime.js';
import { recordFailureLatency } from '../endpoints/latency.js';
import type { EndpointState } from '../endpoints/state.js';
import { errors, GatewayError, LOADING_RETRY_AFTER_MS } from '../errors.js';
import { classTimeoutMs, SlotAdmission } from '../flow-control/admission.js';
import { DEFAULT_PRIORITY, type Priority } from '../flow-control/classes.js';
import { overloadError } from '../flow-control/errors.js';
import { bindAdapter } from '../protocols/adapters.js';
import type { AttemptContext } from '../protocols/types.js';
import { recordOutcome } from '../resilience/outlier-detection.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import { sessionKeyOf } from '../scheduling/llm-aware/session.js';
import { checkedUsage } from '../usage/validate.js';
import { attemptOnce } from './attempt.js';
import { selectMember, unavailability } from './select.js';
import type { PipelineDeps } from './types.js';

/** Retry-After sent with our own 503 when a pool stays saturated. */
const SATURATED_RETRY_AFTER_MS = 1000;

/** State of one call across the pools of its plan. */
export interface CallRun {
  deps: PipelineDeps;
  call: AuthorizedCall;
  /** Its priority class and flow, decided at the pool its route selected (flow-control/classify.ts). */
  priority: Priority;
  /** Budget of the primary pool: every attempt after the first withdraws from it, fallbacks included. */
  budget: RetryBudget;
  publicModel: string;
  /** Overall deadline until the first byte (ms since epoch), from the primary pool's retry.deadline. */
  deadline: number;
  lastError: GatewayError | undefined;
  lastCause: FailureCause | undefined;
}

/** The 400 for an operation no backend of the pool can serve (docs/protocols.md, "Which pairs exist"). */
const unsupportedOperation = (model: string, provider: string | undefined) =>
  errors.invalid(
    `model '${model}' is served by a backend of provider '${provider}', which does not support this operation`,
  );

const deadlineError = (run: CallRun, pool: PoolRuntime) =>
  errors.timeout(
    `no upstream answered ${run.call.model} within the deadline of pool ${pool.config.id}`,
    'deadline_exceeded',
  );

/** 'done' when the call was answered; otherwise the next pool may be tried. Throws when the call must end. */
export async function runPool(run: CallRun, pool: PoolRuntime, lastPool: boolean): Promise<'done' | undefined> {
  const { call, deps } = run;
  const retry = pool.config.retry;
  const deadline = Math.min(
    run.deadline,
    retry.deadlineMs !== undefined ? call.record.startedAt + retry.deadlineMs : Number.POSITIVE_INFINITY,
  );
  const support = pool.support[call.request.operation];
  if (!support.servable) {
    // No member's protocol has an adapter for this operation: a 400 before any attempt (the next pool may serve it).
    run.lastError = unsupportedOperation(call.model, support.provider);
    return undefined;
  }
  const fifo = pool.config.scheduling.queue.discipline === 'fifo';
  const slot = new SlotAdmission(deps.queues.for(pool), fifo ? DEFAULT_PRIORITY : run.priority, (cb) =>
    call.sink.onAbort(cb),
  );
  try {
    return await attemptPool(run, pool, lastPool, deadline, slot);
  } finally {
    slot.close();
  }
}

/** The attempts of `runPool`, each on a slot `slot` admitted it to. */
async function attemptPool(
  run: CallRun,
  pool: PoolRuntime,
  lastPool: boolean,
  deadline: number,
  slot: SlotAdmission,
): Promise<'done' | undefined> {
  const { call, deps } = run;
  const up = call.record.upstream;
  const retry = pool.config.retry;
  const tried = new Set<EndpointState>();
  let queuedAt: number | undefined;
  const never = pool.support[call.request.operation].unservable;
  const session = sessionKeyOf(pool.config, call.header, call.request.body);
  const hints = { ...(call.prompt !== undefined ? { prompt: call.prompt } : {}), ...(session ? { session } : {}) };
  for (let attempt = 0; attempt < retry.attempts; ) {
    if (call.sink.closed) return 'done'; // the client left during a backoff: nobody to answer
    const now = deps.clock.now();
    if (now >= deadline) throw deadlineError(run, pool);
    const gate = slot.gate(now, attempt === 0);
    if (gate === 'shed') {
      shed(run, pool, 'saturated');
      return undefined;
    }
    const member = gate === 'pick' ? selectMember(pool, tried, { now, ...hints }, never) : undefined;
    if (!member) {
      queuedAt ??= now;
      const waited = await waitForEndpoint(run, pool, slot, gate === 'queue', lastPool, deadline, queuedAt, now);
      if (waited === 'again') continue;
      return undefined;
    }
    // The local slot is taken at pick time (before any await); exact caps lease a fleet-wide one as well.
    const e = member.endpoint;
    const exact = deps.leases !== undefined && e.exact?.active() === true;
    e.acquire();
    let lease: string | undefined;
    if (exact && deps.leases) {
      const answer = await deps.leases.acquire(e);
      if (typeof answer !== 'string') {
        e.release();
        deps.queues.released(e);
        if (answer.full) e.markFleetFull(deps.clock.now() + Math.ceil(FLEET_FULL_MS * (0.5 + Math.random())));
        continue; // full: the mark keeps the replica aside; unavailable: its share applies from now
      }
      lease = answer;
    } else if (e.exact && deps.leases) deps.leases.withinShare(e);
    slot.took();
    if (attempt === 0) deps.observers.emit('onSlot', call, pool.config.id);
    let outcome: AttemptOutcome;
    let startedAt: number;
    try {
      const at = lease === undefined ? now : deps.clock.now();
      if (up.attempts > 0) {
        if (!run.budget.tryRetry(at)) {
          deps.observers.emit('onRetryBudgetExhausted', call, pool.config.id);
          throw run.lastError ?? errors.unavailable(`retry budget of pool ${pool.config.id} exhausted`);
        }
        if (run.lastCause) deps.observers.emit('onRetry', call, run.lastCause);
      }
      attempt++;
      tried.add(e);
      up.backend = e.backend.id;
      up.endpoint = e.id;
      const adapter = bindAdapter(call.request, e.backend.provider);
      if (!adapter) throw unsupportedOperation(call.model, e.backend.provider);
      const actx: AttemptContext = {
        stream: call.stream,
        publicModel: run.publicModel,
        upstreamModel: member.target.upstreamModel,
        backend: e.backend,
        clientWantsUsage: call.clientWantsUsage,
        header: call.header,
        maxEventBytes: deps.maxEventBytes,
      };
      const perTry = Math.max(1, Math.min(retry.perTryTimeoutMs ?? Number.POSITIVE_INFINITY, deadline - at));
      up.attempts++;
      startedAt = performance.now();
      up.attemptStartedAt = startedAt;
      up.firstAttemptAt ??= startedAt;
      up.ttfbMs = undefined;
      deps.observers.emit('onAttemptStart', call, member, up.attempts - 1);
      outcome = await attemptOnce(deps, call, member, adapter, actx, Number.isFinite(perTry) ? perTry : undefined);
    } finally {
      if (lease !== undefined) deps.leases?.release(e, lease);
      e.release();
      deps.queues.released(e);
    }
    const endedAt = performance.now();
    const duration = endedAt - startedAt;
    up.upstreamMs += duration;
    up.lastAttemptEndAt = endedAt;
    if (outcome.kind === 'done' && outcome.usage && !checkedUsage(outcome.usage)) {
      deps.log.warn(
        { requestId: call.record.id, backend: member.endpoint.backend.id },
        'upstream reported implausible usage: tokens are estimated instead',
      );
      outcome = { ...outcome, usage: undefined };
      up.usageRejected = true;
    }
    // Only the replica's own behaviour teaches outlier detection: never a client that left or stopped reading.
    const byClient = outcome.kind === 'done' ? outcome.clientCaused === true : call.sink.closed;
    if (!byClient) learn(run, pool, member.endpoint, outcome, duration);
    deps.observers.emit('onAttemptEnd', call, member, outcome, duration);
    if (outcome.kind === 'done') {
      if (outcome.usage) up.usage = outcome.usage;
      if (outcome.incomplete) up.usageIncomplete = true;
      if (outcome.streamError) call.record.streamError = outcome.streamError.code ?? 'stream_error';
      return 'done';
    }
    if (outcome.kind === 'fatal') throw outcome.error;
    run.lastError = outcome.error;
    run.lastCause = outcome.cause;
    if (!retry.retryOn.includes(outcome.cause) || call.sink.closed) throw outcome.error;
    if (attempt < retry.attempts && outcome.cause !== '429') {
      const backoff =
        Math.min(retry.backoff.maxMs, retry.backoff.baseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const wait = Math.min(backoff, deadline - deps.clock.now());
      if (wait >= 1) await sleep(deps.clock, wait);
    }
  }
  return undefined;
}

/** How long a replica whose fleet-wide slots are all leased is left alone before this proxy asks again. */
const FLEET_FULL_MS = 40;

/** How a refused wait shows in `onQueueWait` (a call refused without queueing never waited). */
const WAIT_OUTCOME: Record<ShedReason, 'timeout' | 'full' | 'shed' | undefined> = {
  saturated: undefined,
  no_slot: undefined,
  queue_full: 'full',
  displaced: 'shed',
  timeout: 'timeout',
};

/** Overload refuses the call at `pool`: a 503 with Retry-After in the surface's shape, unless a later pool serves it. */
function shed(run: CallRun, pool: PoolRuntime, reason: ShedReason): void {
  const { call } = run;
  const flow = call.record.flow;
  if (flow) flow.shed = reason;
  run.deps.observers.emit('onShed', call, pool.config.id, reason);
  run.lastError = overloadError(pool.config.id, flow?.cls ?? 'standard', reason, SATURATED_RETRY_AFTER_MS);
}

/**
 * Outlier detection and latency learn from an attempt's outcome. An upstream that says it is loading its model is
 * not an outlier: it is taken out of traffic at once (no retry goes back to it) until it has loaded.
 */
function learn(run: CallRun, pool: PoolRuntime, e: EndpointState, outcome: AttemptOutcome, durationMs: number) {
  const now = run.deps.clock.now();
  if (outcome.kind === 'retry' && outcome.loading) {
    e.markLoading(now, outcome.retryAfterMs ?? LOADING_RETRY_AFTER_MS);
    return;
  }
  if (outcome.kind === 'done') e.markLoaded();
  const ejectedFor = recordOutcome(e, pool, outcome, now);
  if (ejectedFor !== undefined) run.deps.observers.emit('onEjection', e, pool.config.id, ejectedFor);
  if (outcome.kind === 'retry' && outcome.cause !== '429') recordFailureLatency(e, durationMs, now);
}

/**
 * Nothing is available in the pool, or flow control made the call queue (`gated`): wait in the queue (up to the
 * call's class timeout) when endpoints are only full, until the soonest fleet-full mark
 * ends when their fleet-wide slots are leased by other proxies (exact caps, within the queue's timeout), or for the
 * soonest Retry-After when they are only rate limited (last pool only: otherwise the fallback takes the request); when
 * endpoints are loading their model, a 503 with Retry-After (unless an earlier error says more).
 * 'again' to pick again; undefined to move on (run.lastError says why); throws when the call must end.
 */
async function waitForEndpoint(
  run: CallRun,
  pool: PoolRuntime,
  slot: SlotAdmission,
  gated: boolean,
  lastPool: boolean,
  deadline: number,
  queuedAt: number,
  now: number,
): Promise<'again' | undefined> {
  const { call, deps } = run;
  // `now` is the time of the pick that found nothing: the same view of every time-bound state. A gated call (behind
  // waiters, or outside the critical reserve) queues without looking.
  const why = gated ? undefined : unavailability(pool, now);
  if (!why || why.full) {
    const until = Math.min(queuedAt + classTimeoutMs(pool.config.scheduling.queue, slot.priority.cls), deadline);
    // a replica whose fleet-wide slots are all leased elsewhere may be asked again before a local slot frees
    const wake = Math.min(until, why?.fleetFullUntil ?? until);
    const result = await slot.wait(now, until, wake);
    const flow = call.record.flow;
    if (flow) flow.queuedMs += deps.clock.now() - now;
    const outcome = result.kind === 'shed' ? WAIT_OUTCOME[result.reason] : result.kind;
    if (outcome) deps.observers.emit('onQueueWait', call, pool.config.id, outcome, deps.clock.now() - queuedAt);
    if (result.kind === 'woken') return 'again';
    if (result.kind === 'aborted') throw errors.badGateway('the client went away while queued', 'client_closed');
    shed(run, pool, result.reason);
    return undefined;
  }
  if (why.fleetFullUntil !== undefined) {
    // Exact caps: every fleet-wide slot of the available replicas is leased by some proxy; ask again shortly.
    const until = Math.min(queuedAt + classTimeoutMs(pool.config.scheduling.queue, slot.priority.cls), deadline);
    if (why.fleetFullUntil < until) {
      await sleep(deps.clock, Math.max(0, why.fleetFullUntil - now));
      if (call.sink.closed) throw errors.badGateway('the client went away while waiting', 'client_closed');
      return 'again';
    }
    run.lastError = new GatewayError(
      503,
      'overloaded',
      `every endpoint of pool ${pool.config.id} is at its max concurrency across the fleet`,
      { code: 'pool_saturated', retryAfterMs: SATURATED_RETRY_AFTER_MS },
    );
    return undefined;
  }
  if (why.soonestRelease !== undefined) {
    const wait = why.soonestRelease - now;
    if (lastPool && wait <= pool.config.retry.maxRetryAfterMs && why.soonestRelease < deadline) {
      await sleep(deps.clock, wait);
      if (call.sink.closed) throw errors.badGateway('the client went away while waiting', 'client_closed');
      return 'again';
    }
    run.lastError = new GatewayError(
      429,
      'rate_limit',
      `every endpoint of pool ${pool.config.id} is rate limited by its upstream`,
      { code: 'upstream_rate_limited', retryAfterMs: wait },
    );
    return undefined;
  }
  if (why.loadingUntil !== undefined)
    run.lastError ??= errors.loading(
      `every available endpoint of pool ${pool.config.id} is loading its model`,
      Math.max(LOADING_RETRY_AFTER_MS, why.loadingUntil - now),
    );
  return undefined;
}
