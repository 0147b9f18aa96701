/**
 * Token usage in neutral terms (input includes cached tokens), and the canonical (OpenAI) usage objects it is read
 * from and written to. Upstream usage is untrusted: a count that is not a number reads as NaN, so the pipeline's
 * plausibility check (usage/validate.ts) drops the whole report and the tokens are estimated instead.
 */
import { isRecord } from '../common/json.js';

/** Token usage in neutral terms: input includes cached tokens. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

/** An OpenAI `usage` object as the gateway writes it. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

/** A reported count: 0 when absent, NaN when it is not a number (so the report fails the plausibility check). */
export function count(v: unknown): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : Number.NaN;
}

/** Neutral usage from an OpenAI `usage` object; undefined when there is none. */
export function usageFromOpenAI(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const details = u.prompt_tokens_details;
  const cached = isRecord(details) ? details.cached_tokens : undefined;
  return {
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    ...(typeof cached === 'number' ? { cachedInputTokens: cached } : {}),
  };
}

/** OpenAI usage (prompt tokens include cached ones) from neutral usage. */
export function openAIUsage(u: Usage): OpenAIUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    ...(u.cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: u.cachedInputTokens } } : {}),
  };
}
