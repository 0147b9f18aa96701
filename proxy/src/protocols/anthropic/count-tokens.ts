/**
 * Local input-token estimate for Anthropic `count_tokens` when the upstream has no Anthropic tokenizer: one token
 * per 4 characters of text (system, message text, tool inputs and results, tool definitions as JSON), plus 4 per
 * message for role framing and 1,600 per image (Anthropic's cost of an image at its largest size). It is an
 * estimate of the order of magnitude, not the upstream tokenizer's count.
 */
import { isRecord } from '../common/json.js';
import type { Adapter, AttemptContext, ErrorParser, UpstreamRequest } from '../types.js';
import type { CountTokensRequest } from './schemas.js';

export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_IMAGE = 1600;

function measure(v: unknown, acc: { chars: number; images: number }): void {
  if (typeof v === 'string') acc.chars += v.length;
  else if (Array.isArray(v)) for (const x of v) measure(x, acc);
  else if (isRecord(v)) {
    if (v.type === 'image') acc.images++;
    else if (v.type === 'text') measure(v.text, acc);
    else if (v.type === 'tool_use') acc.chars += String(v.name).length + JSON.stringify(v.input ?? {}).length;
    else if (v.type === 'tool_result') measure(v.content, acc);
    else if (v.type === 'thinking') measure(v.thinking, acc);
  }
}

/** Estimated input tokens of an Anthropic Messages request body. */
export function estimateAnthropicInputTokens(body: CountTokensRequest): number {
  const acc = { chars: 0, images: 0 };
  measure(body.system, acc);
  for (const m of body.messages) measure(m.content, acc);
  if (body.tools) acc.chars += JSON.stringify(body.tools).length;
  return (
    Math.ceil(acc.chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * body.messages.length + TOKENS_PER_IMAGE * acc.images
  );
}

/**
 * count_tokens against an upstream without an Anthropic tokenizer: a cheap upstream call (`probe`, e.g. the models
 * list) keeps routing, auth and health in the loop; the answer is the local estimate above.
 */
export function countTokensEstimate(
  probe: (ctx: AttemptContext) => UpstreamRequest,
  parseError: ErrorParser,
): Adapter<'count_tokens'> {
  return {
    streamContentType: 'application/json',
    buildRequest: probe,
    parseError,
    translateResponse: (_body, ctx) => ({
      body: JSON.stringify({ input_tokens: estimateAnthropicInputTokens(ctx.body) }),
    }),
    createStreamTranslator: () => {
      throw new Error('count_tokens does not stream');
    },
  };
}
