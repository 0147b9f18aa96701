/**
 * The usage stage (innermost governance stage): after the answer, records input/output tokens and cost in the
 * request state. Tokens come from the upstream's usage; when a stream ended without it (client abort, mid-stream
 * failure) the output is the number of deltas relayed and the input the admission estimate (`usageEstimated`).
 */
import type { HookList } from '../governance-hooks.js';
import { estimateTokens } from '../limits/estimate.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { backendOf, costOf } from './cost.js';
import { StreamMeterSink } from './stream-meter.js';

/** Creates the usage stage. */
export const meterUsage = (hooks: HookList): CallMiddleware =>
  async function meterUsage(call, next) {
    const meter = call.stream ? new StreamMeterSink(call.sink) : undefined;
    if (meter) call.sink = meter;
    try {
      await next();
    } finally {
      recordUsage(call, meter, hooks);
    }
  };

function recordUsage(call: ProxyCall, meter: StreamMeterSink | undefined, hooks: HookList): void {
  const s = call.state;
  if (s.inputTokens === undefined && s.outputTokens === undefined) {
    // No usage from upstream. Only an answer that started reaching the client has consumed tokens we can estimate.
    if (!meter || !call.sink.headSent || s.attempts === 0) return;
    s.inputTokens = estimateTokens(call).input;
    s.outputTokens = meter.deltas;
    s.usageEstimated = true;
  }
  const input = s.inputTokens ?? 0;
  const output = s.outputTokens ?? 0;
  const cost = costOf(backendOf(call.runtime.config, s.backend)?.pricing, input, output, s.cachedInputTokens);
  if (cost) {
    s.cost = cost.amount;
    s.costCurrency = cost.currency;
  }
  hooks.emit('onUsage', call, {
    inputTokens: input,
    outputTokens: output,
    estimated: s.usageEstimated === true,
    ...(cost ? { cost: cost.amount, currency: cost.currency } : {}),
  });
}
