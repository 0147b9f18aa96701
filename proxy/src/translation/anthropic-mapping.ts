/** Stop reasons and usage between Anthropic and the canonical (OpenAI) form, as data plus tiny functions. */
import type { GatewayError } from '../errors.js';
import type { Usage } from '../providers/types.js';
import type { AnthropicStopReason, AnthropicUsage } from './anthropic-types.js';
import { badUpstream } from './common.js';
import type { FinishReason } from './openai-types.js';

const FINISH_OF_STOP: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const STOP_OF_FINISH: Record<FinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** OpenAI `finish_reason` for an Anthropic `stop_reason`. */
export function finishOfStop(stop: string | null | undefined): FinishReason {
  return (stop && FINISH_OF_STOP[stop]) || 'stop';
}

/** Anthropic `stop_reason` for an OpenAI `finish_reason`; a known stop sequence makes it `stop_sequence`. */
export function stopOfFinish(
  finish: FinishReason | null | undefined,
  stopSequence?: string | null,
): AnthropicStopReason {
  if (finish === 'stop' && stopSequence) return 'stop_sequence';
  return (finish && STOP_OF_FINISH[finish]) || 'end_turn';
}

/** Neutral usage from Anthropic usage: input includes cache reads and writes; cached = cache reads. */
export function usageFromAnthropic(u: Partial<AnthropicUsage> | null | undefined): Usage | undefined {
  if (!u) return undefined;
  const read = u.cache_read_input_tokens ?? 0;
  const write = u.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (u.input_tokens ?? 0) + read + write,
    outputTokens: u.output_tokens ?? 0,
    ...(u.cache_read_input_tokens != null ? { cachedInputTokens: read } : {}),
  };
}

/** Anthropic usage from neutral usage: input tokens exclude cached ones, reported as cache reads. */
export function anthropicUsage(u: Usage | undefined): AnthropicUsage {
  const cached = u?.cachedInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.inputTokens ?? 0) - cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: u?.outputTokens ?? 0,
  };
}

/** The stop sequence a vLLM-style choice reports (`stop_reason` holding the matched string), if any. */
export function matchedStopSequence(choice: unknown): string | null {
  const r = (choice as { stop_reason?: unknown } | undefined)?.stop_reason;
  return typeof r === 'string' ? r : null;
}

/** An Anthropic stream whose first event is neither `message_start` nor `error`: malformed (502). */
export function streamWithoutStart(): GatewayError {
  return badUpstream('upstream stream did not begin with message_start', 'upstream_invalid_stream');
}
