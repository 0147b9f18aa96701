/**
 * Request validation for the Anthropic surface, following the Messages API's own rules (max_tokens required,
 * roles user/assistant only, temperature 0..1, the required fields of text/image/tool_use/tool_result/thinking
 * blocks). Unknown fields and block types pass through to Anthropic upstreams; translating adapters refuse the ones
 * they cannot express.
 */
import { z } from 'zod';
import { refineWith } from '../refine.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
const imageSource = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: z.enum(IMAGE_TYPES), data: z.string().min(1) }),
  z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  z.looseObject({ type: z.literal('file'), file_id: z.string().min(1) }),
]);

/** The fields Anthropic requires on the block types the gateway reads or translates; other types pass through. */
const KNOWN_BLOCKS: Record<string, z.ZodType> = {
  text: z.looseObject({ text: z.string() }),
  image: z.looseObject({ source: imageSource }),
  tool_use: z.looseObject({ id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) }),
  tool_result: z.looseObject({
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
    is_error: z.boolean().optional(),
  }),
  thinking: z.looseObject({ thinking: z.string(), signature: z.string() }),
  redacted_thinking: z.looseObject({ data: z.string() }),
};

const block = z.looseObject({ type: z.string() }).superRefine((b, ctx) => {
  const schema = KNOWN_BLOCKS[b.type];
  if (schema) refineWith(schema, b, ctx);
});
const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});
const tool = z.looseObject({
  name: z.string().min(1),
  input_schema: z.looseObject({}).optional(),
  type: z.string().optional(),
});
const toolChoice = z.union([
  z.looseObject({ type: z.enum(['auto', 'any', 'none']), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
]);

const common = {
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.literal('text'), text: z.string() }))]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
};

export const messagesRequest = z.looseObject({
  ...common,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
});

export const countTokensRequest = z.looseObject(common);
