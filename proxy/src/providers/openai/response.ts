/** Non-streaming OpenAI answers: usage extracted, model reported as the public name. */
import { errors } from '../../errors.js';
import type { AdapterContext, Usage } from '../types.js';

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** Neutral usage from an OpenAI `usage` object. */
export function usageFromOpenAI(u: OpenAIUsage | null | undefined): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const cached = u.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: u.prompt_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    ...(typeof cached === 'number' ? { cachedInputTokens: cached } : {}),
  };
}

/** Parses an upstream JSON answer; a body that is not JSON is an upstream failure (502). */
export function parseUpstreamJson(body: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw errors.badGateway('upstream answered with a body that is not a JSON object', 'upstream_invalid_response');
}

export function translateOpenAIResponse(body: Buffer, ctx: AdapterContext): { body: string | Buffer; usage?: Usage } {
  const j = parseUpstreamJson(body);
  const usage = usageFromOpenAI(j.usage as OpenAIUsage | undefined);
  // Already in the client's terms: forward the upstream bytes untouched instead of serialising them again.
  if (!('model' in j) || j.model === ctx.publicModel) return { body, ...(usage ? { usage } : {}) };
  j.model = ctx.publicModel;
  return { body: JSON.stringify(j), ...(usage ? { usage } : {}) };
}
