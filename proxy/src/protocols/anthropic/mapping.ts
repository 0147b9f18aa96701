/** Stop reasons and usage between Anthropic and the canonical (OpenAI) form, as data plus tiny functions. */
import type { GatewayError } from '../../errors.js';
import type { FinishReason } from '../canonical/chat.js';
import { count, type Usage } from '../canonical/usage.js';
import { badUpstream, isRecord } from '../common/json.js';
import type { AnthropicStopReason } from './schemas.js';

const FINISH_OF_STOP: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const STOP_OF_FINISH: Record<string, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** OpenAI `finish_reason` for an Anthropic `stop_reason`. */
export function finishOfStop(stop: string | null | undefined): FinishReason {
  return (stop && Object.hasOwn(FINISH_OF_STOP, stop) && FINISH_OF_STOP[stop]) || 'stop';
}

/** Anthropic `stop_reason` for an OpenAI `finish_reason`; a known stop sequence makes it `stop_sequence`. */
export function stopOfFinish(finish: string | null | undefined, stopSequence?: string | null): AnthropicStopReason {
  if (finish === 'stop' && stopSequence) return 'stop_sequence';
  return (finish && Object.hasOwn(STOP_OF_FINISH, finish) && STOP_OF_FINISH[finish]) || 'end_turn';
}

/** Anthropic usage as the gateway writes it. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Neutral usage from Anthropic usage: input includes cache reads and writes; cached = cache reads. */
export function usageFromAnthropic(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const read = count(u.cache_read_input_tokens);
  const write = count(u.cache_creation_input_tokens);
  return {
    inputTokens: count(u.input_tokens) + read + write,
    outputTokens: count(u.output_tokens),
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
export function matchedStopSequence(choice: Readonly<Record<string, unknown>>): string | null {
  return typeof choice.stop_reason === 'string' ? choice.stop_reason : null;
}

/** An Anthropic stream whose first event is neither `message_start` nor `error`: malformed (502). */
export function streamWithoutStart(): GatewayError {
  return badUpstream('upstream stream did not begin with message_start', 'upstream_invalid_stream');
}
