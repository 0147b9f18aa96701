/**
 * The usage stage (innermost governance stage): after the answer, records input/output tokens and cost in the
 * request state. Tokens come from the upstream's usage; when a stream ended early (client abort, mid-stream failure)
 * the output is the number of deltas relayed and the input the upstream's count when it sent one (Anthropic does in
 * `message_start`), else the admission estimate (`usageEstimated`). Usage the upstream reported but that failed the
 * plausibility check (usage/validate.ts) is estimated the same way.
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
  const reported = s.inputTokens !== undefined || s.outputTokens !== undefined;
  if (!reported || s.usageIncomplete) {
    // No usage from upstream, or only the part sent before the stream ended early (Anthropic reports the input and
    // one output token in `message_start`). Only an answer that started reaching the client has consumed tokens we
    // can estimate: the output is what was relayed (at least what the upstream had already counted).
    if (meter && call.sink.headSent && s.attempts > 0) {
      s.inputTokens ??= estimateTokens(call).input;
      s.outputTokens = Math.max(s.outputTokens ?? 0, meter.deltas);
      s.usageEstimated = true;
    } else if (s.usageRejected && call.sink.headSent) {
      // A complete answer whose usage was implausible: the admission estimate (prompt size, requested maximum).
      const e = estimateTokens(call);
      s.inputTokens = e.input;
      s.outputTokens = e.output;
      s.usageEstimated = true;
    } else if (!reported) return;
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
