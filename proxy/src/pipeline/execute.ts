/**
 * The request pipeline: resolve the route, then attempt upstreams: retries go to another endpoint where one
 * exists, then down the pool's priority tiers, then along the fallback chain. Retries stop at the pool's attempt
 * count and never happen once bytes reached the client.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EndpointState } from '../config/endpoint-state.js';
import type { PoolRuntime } from '../config/runtime.js';
import { errors, type GatewayError } from '../errors.js';
import { PROTOCOL_OF } from '../providers/protocol.js';
import { findAdapter } from '../providers/registry.js';
import type { AdapterContext } from '../providers/types.js';
import { resolveRoute } from '../routing/resolve.js';
import { attemptOnce } from './attempt.js';
import { recordOutcome } from './passive-health.js';
import { selectMember, soonestRelease } from './select.js';
import type { AttemptOutcome, PipelineDeps, ProxyCall } from './types.js';

/** Runs `call` to completion: the response (or the error) has been written when this resolves. */
export async function executeCall(deps: PipelineDeps, call: ProxyCall): Promise<void> {
  const plan =
    call.plan ?? resolveRoute(call.runtime, { model: call.model, header: call.header, tenant: call.state.tenant });
  call.plan = plan;
  call.state.pool = plan.pools[0]?.config.id;
  let lastError: GatewayError | undefined;
  for (const [i, pool] of plan.pools.entries()) {
    if (i > 0) {
      const from = plan.pools[i - 1]?.config.id ?? '';
      call.state.fallback = pool.config.id;
      call.state.pool = pool.config.id;
      deps.hooks?.onFallback?.(call, from, pool.config.id);
    }
    const result = await runPool(deps, call, pool, plan.publicModel);
    if (result === 'done') return;
    lastError = result ?? lastError;
    if (call.sink.closed) return;
  }
  throw lastError ?? errors.unavailable(`no healthy endpoint is available for model '${call.model}'`);
}

/** Attempts within one pool; 'done' or the last error (undefined when no endpoint was available at all). */
async function runPool(
  deps: PipelineDeps,
  call: ProxyCall,
  pool: PoolRuntime,
  publicModel: string,
): Promise<'done' | GatewayError | undefined> {
  const retry = pool.config.retry;
  const tried = new Set<EndpointState>();
  const deadline = retry.deadlineMs !== undefined ? call.state.startedAt + retry.deadlineMs : Number.POSITIVE_INFINITY;
  let lastError: GatewayError | undefined;
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    let now = Date.now();
    let member = selectMember(pool, tried, { now, ...(call.prompt ? { prompt: call.prompt } : {}) });
    if (!member) {
      // Every endpoint is rate limited by Retry-After: wait for the first one if that is within the cap.
      const release = soonestRelease(pool, now);
      if (release === undefined || release - now > retry.maxRetryAfterMs || release > deadline) break;
      await sleep(release - now);
      if (call.sink.closed) return 'done';
      now = Date.now();
      member = selectMember(pool, tried, { now });
      if (!member) break;
    }
    tried.add(member.endpoint);
    call.state.attempts++;
    call.state.backend = member.endpoint.backend.id;
    call.state.endpoint = member.endpoint.id;
    const protocol = PROTOCOL_OF[member.endpoint.backend.provider];
    const adapter = findAdapter(`${call.surface.name}/${protocol}/${call.operation}`);
    if (!adapter) {
      lastError = errors.invalid(
        `model '${call.model}' is served by a ${member.endpoint.backend.provider} backend, which does not support this operation`,
      );
      continue;
    }
    const actx: AdapterContext = {
      operation: call.operation,
      body: call.body,
      stream: call.stream,
      publicModel,
      upstreamModel: member.target.upstreamModel,
      backend: member.endpoint.backend,
      clientWantsUsage: call.clientWantsUsage,
      header: call.header,
    };
    const perTry = retry.perTryTimeoutMs;
    const startedAt = performance.now();
    member.endpoint.inflight++;
    deps.hooks?.onAttemptStart?.(call, member, attempt);
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptOnce(deps, call, member, adapter, actx, perTry);
    } finally {
      member.endpoint.inflight--;
    }
    const duration = performance.now() - startedAt;
    recordOutcome(member.endpoint, pool, outcome, duration);
    deps.hooks?.onAttemptEnd?.(call, member, outcome, duration);
    if (outcome.kind === 'done') {
      if (outcome.usage) {
        call.state.inputTokens = outcome.usage.inputTokens;
        call.state.outputTokens = outcome.usage.outputTokens;
      }
      if (outcome.streamError) call.state.errorCode = outcome.streamError.code ?? 'stream_error';
      return 'done';
    }
    if (outcome.kind === 'fatal') throw outcome.error;
    lastError = outcome.error;
    if (!retry.retryOn.includes(outcome.cause) || call.sink.closed) throw outcome.error;
    if (Date.now() >= deadline) break;
    if (attempt + 1 < retry.attempts) {
      const backoff = Math.min(retry.backoff.maxMs, retry.backoff.baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (backoff >= 1) await sleep(backoff);
    }
  }
  return lastError;
}
