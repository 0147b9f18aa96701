/** Request validation for the Ollama surface: types of the fields the gateway reads; other fields pass through. */
import { z } from 'zod';

const format = z.union([z.literal('json'), z.literal(''), z.looseObject({})]).optional();
const options = z.looseObject({}).nullable().optional();
const keepAlive = z.union([z.string(), z.number()]).optional();

const message = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().optional(),
  images: z.array(z.string()).nullable().optional(),
  tool_calls: z
    .array(z.looseObject({ function: z.looseObject({ name: z.string(), arguments: z.looseObject({}).optional() }) }))
    .optional(),
  tool_name: z.string().optional(),
});

export const ollamaChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message),
  tools: z.array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }) })).optional(),
  format,
  options,
  stream: z.boolean().optional(),
  keep_alive: keepAlive,
  think: z.union([z.boolean(), z.string()]).optional(),
});

export const ollamaGenerateRequest = z.looseObject({
  model: z.string().min(1),
  prompt: z.string().optional(),
  system: z.string().optional(),
  images: z.array(z.string()).nullable().optional(),
  format,
  options,
  stream: z.boolean().optional(),
  raw: z.boolean().optional(),
  keep_alive: keepAlive,
});

export const ollamaEmbedRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string())]).optional(),
  prompt: z.string().optional(),
  truncate: z.boolean().optional(),
  dimensions: z.number().int().min(1).optional(),
  options,
  keep_alive: keepAlive,
});
