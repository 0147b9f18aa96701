/**
 * Request validation for the OpenAI surface. Deliberately permissive: it checks the types of the fields the
 * gateway relies on and of well-known fields, and lets every other field through untouched to the upstream.
 */
import { z } from 'zod';
import { refineWith } from '../refine.js';

/** `function` is required on function tools and tool calls (the default type); other types (custom) pass. */
const requireFunction =
  (shape: z.ZodType) => (v: { type?: string | undefined; function?: unknown }, ctx: z.RefinementCtx) => {
    if (v.type === undefined || v.type === 'function') refineWith(shape, v.function, ctx, ['function']);
  };

const toolCall = z
  .looseObject({ id: z.string().optional(), type: z.string().optional(), function: z.unknown().optional() })
  .superRefine(requireFunction(z.looseObject({ name: z.string(), arguments: z.string() })));

const tool = z
  .looseObject({ type: z.string(), function: z.unknown().optional() })
  .superRefine(requireFunction(z.looseObject({ name: z.string().min(1) })));

const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose();

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
const stop = z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional();

const sampling = {
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptions,
  max_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
};

export const chatCompletionRequest = z
  .object({
    ...sampling,
    messages: z.array(message).min(1),
    max_completion_tokens: z.number().int().min(1).nullable().optional(),
    tools: z.array(tool).optional(),
    tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).optional(),
    response_format: z.looseObject({ type: z.string() }).optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  })
  .loose();

const tokenArray = z.array(z.number().int());
export const completionRequest = z
  .object({
    ...sampling,
    prompt: z.union([z.string(), z.array(z.string()), tokenArray, z.array(tokenArray), z.null()]),
    echo: z.boolean().nullable().optional(),
    best_of: z.number().int().min(0).max(20).nullable().optional(),
    suffix: z.string().nullable().optional(),
  })
  .loose();

export const embeddingRequest = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1), tokenArray.min(1), z.array(tokenArray).min(1)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).optional(),
    user: z.string().optional(),
  })
  .loose();
