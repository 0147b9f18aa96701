/**
 * Request validation for the Anthropic surface, following the Messages API's own rules (max_tokens required,
 * roles user/assistant only, temperature 0..1). Unknown fields pass through to Anthropic upstreams; translating
 * adapters refuse the ones they cannot express.
 */
import { z } from 'zod';

const block = z.looseObject({ type: z.string() });
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
