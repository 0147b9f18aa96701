/**
 * The usage stage (the last before the upstream pipeline): after the answer, records the tokens and cost the call
 * is charged with (record.usage). Tokens come from the upstream's usage (record.upstream); when a stream ended early
 * (client abort, mid-stream failure) the output is the number of deltas relayed and the input the upstream's count
 * when it sent one (Anthropic does in `message_start`), else the admission estimate (`estimated`). Usage the upstream
 * reported but that failed the plausibility check (usage/validate.ts) is estimated the same way.
 */
import type { Call, Stage } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import type { MeteredUsage } from '../call/record.js';
import { estimateTokens } from '../limits/estimate.js';
import { costOf } from './cost.js';
import { StreamMeterSink } from './stream-meter.js';

/** Creates the usage stage. */
export const meterUsage = <C extends Call>(observers: Observers): Stage<C> =>
  async function meterUsage(call, next) {
    const meter = call.stream ? new StreamMeterSink(call.sink) : undefined;
    try {
      await next(meter ? { ...call, sink: meter } : call);
    } finally {
      recordUsage(call, meter, observers);
    }
  };

/** The tokens of a call, or undefined when nothing was consumed that could be counted. */
function tokensOf(call: Call, meter: StreamMeterSink | undefined): Omit<MeteredUsage, 'cost' | 'currency'> | undefined {
  const up = call.record.upstream;
  const reported = up.usage;
  const headSent = (meter ?? call.sink).headSent;
  if (reported && !up.usageIncomplete) return { ...reported, estimated: false };
  // No usage from upstream, or only the part sent before the stream ended early (Anthropic reports the input and
  // one output token in `message_start`). Only an answer that started reaching the client has consumed tokens we
  // can estimate: the output is what was relayed (at least what the upstream had already counted).
  if (meter && headSent && up.attempts > 0)
    return {
      inputTokens: reported?.inputTokens ?? estimateTokens(call).input,
      outputTokens: Math.max(reported?.outputTokens ?? 0, meter.deltas),
      cachedInputTokens: reported?.cachedInputTokens,
      estimated: true,
    };
  if (!reported && up.usageRejected && headSent) {
    // A complete answer whose usage was implausible: the admission estimate (prompt size, requested maximum).
    const e = estimateTokens(call);
    return { inputTokens: e.input, outputTokens: e.output, estimated: true };
  }
  return reported ? { ...reported, estimated: false } : undefined;
}

function recordUsage(call: Call, meter: StreamMeterSink | undefined, observers: Observers): void {
  const tokens = tokensOf(call, meter);
  if (!tokens) return;
  const backend = call.record.upstream.backend;
  const pricing = backend !== undefined ? call.runtime.backends.get(backend)?.pricing : undefined;
  const cost = costOf(pricing, tokens.inputTokens, tokens.outputTokens, tokens.cachedInputTokens);
  call.record.usage = { ...tokens, ...(cost ? { cost: cost.amount, currency: cost.currency } : {}) };
  observers.emit('onUsage', call, {
    inputTokens: tokens.inputTokens,
    outputTokens: tokens.outputTokens,
    estimated: tokens.estimated,
    ...(cost ? { cost: cost.amount, currency: cost.currency } : {}),
  });
}
