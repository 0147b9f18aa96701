/** Non-streaming OpenAI answers: usage extracted, model reported as the public name. */
import { z } from 'zod';
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

/**
 * What a non-streamed answer must look like for the gateway to read it: the fields clients and translators rely
 * on, with their types; anything else passes untouched (loose objects). An answer that does not match is malformed.
 */
export type AnswerShape = z.ZodType<Record<string, unknown>>;

const content = z.string().nullish();

/** What each OpenAI-protocol operation's answer must carry. */
export const OPENAI_ANSWER = {
  chat: z.looseObject({ choices: z.array(z.looseObject({ message: z.looseObject({ content }) })) }),
  completions: z.looseObject({ choices: z.array(z.looseObject({ text: z.string() })) }),
  embeddings: z.looseObject({
    data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]) })),
  }),
} satisfies Record<string, AnswerShape>;

/** Parses an upstream JSON answer of `shape`; a body that is not such a JSON object is an upstream failure (502). */
export function parseUpstreamJson(body: Buffer, shape?: AnswerShape): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw errors.badGateway('upstream answered with a body that is not a JSON object', 'upstream_invalid_response');
  const checked = shape?.safeParse(v);
  if (checked && !checked.success) {
    const issue = checked.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw errors.badGateway(`upstream answer is malformed${where}`, 'upstream_invalid_response');
  }
  return v as Record<string, unknown>;
}

export function translateOpenAIResponse(body: Buffer, ctx: AdapterContext): { body: string | Buffer; usage?: Usage } {
  const op = ctx.operation === 'completions' || ctx.operation === 'embeddings' ? ctx.operation : 'chat';
  const j = parseUpstreamJson(body, OPENAI_ANSWER[op]);
  const usage = usageFromOpenAI(j.usage as OpenAIUsage | undefined);
  // Already in the client's terms: forward the upstream bytes untouched instead of serialising them again.
  if (!('model' in j) || j.model === ctx.publicModel) return { body, ...(usage ? { usage } : {}) };
  j.model = ctx.publicModel;
  return { body: JSON.stringify(j), ...(usage ? { usage } : {}) };
}
