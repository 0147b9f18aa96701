/**
 * The Ollama wire format. Client requests: the types of the fields the gateway reads; other fields pass through to
 * Ollama upstreams (translating adapters refuse what they cannot express). The chat request type is also what the
 * gateway sends Ollama upstreams. Answers: what a non-streamed answer must carry for the pass-through, and how the
 * translators read answers and stream lines (hints of the wrong type read as absent).
 */
import { z } from 'zod';

const format = z.union([z.literal('json'), z.literal(''), z.looseObject({})]).optional();
const options = z.looseObject({}).nullable().optional();
const keepAlive = z.union([z.string(), z.number()]).optional();

const toolCall = z.looseObject({
  id: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.looseObject({}).optional() }),
});

const message = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().optional(),
  images: z.array(z.string()).nullable().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_name: z.string().optional(),
  /** The reasoning of an earlier assistant turn. */
  thinking: z.string().optional(),
});

/** `think`: on or off, or a level (gpt-oss). */
const think = z.union([z.boolean(), z.enum(['low', 'medium', 'high'])]).optional();

/** An `/api/chat` request, from clients and to Ollama upstreams. */
export const ollamaChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message),
  tools: z.array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }) })).optional(),
  format,
  options,
  stream: z.boolean().optional(),
  keep_alive: keepAlive,
  think,
});

/** An `/api/generate` request. */
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
  think,
});

/** An `/api/embed` (`input`) or legacy `/api/embeddings` (`prompt`) request; each route requires its field. */
export const ollamaEmbedRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string())]).optional(),
  prompt: z.string().optional(),
  truncate: z.boolean().optional(),
  dimensions: z.number().int().min(1).optional(),
  options,
  keep_alive: keepAlive,
});

export type OllamaChatRequest = z.infer<typeof ollamaChatRequest>;
export type OllamaGenerateRequest = z.infer<typeof ollamaGenerateRequest>;
export type OllamaEmbedRequest = z.infer<typeof ollamaEmbedRequest>;
export type OllamaMessage = OllamaChatRequest['messages'][number];
export type OllamaToolCall = z.infer<typeof toolCall>;

/** Request bodies of the Ollama surface's operations. */
export interface OllamaBodies {
  ollama_chat: OllamaChatRequest;
  ollama_generate: OllamaGenerateRequest;
  ollama_embed: OllamaEmbedRequest;
}

/** Schemas of the Ollama surface's request bodies. */
export const OLLAMA_REQUESTS = {
  ollama_chat: ollamaChatRequest,
  ollama_generate: ollamaGenerateRequest,
  ollama_embed: ollamaEmbedRequest,
};

/** What each Ollama answer must carry for the pass-through to relay it (non-streamed). */
export const OLLAMA_ANSWER = {
  chat: z.looseObject({ message: z.looseObject({ content: z.string().optional() }) }),
  generate: z.looseObject({ response: z.string() }),
  embed: z.looseObject({ embeddings: z.array(z.array(z.number())) }),
  embeddings: z.looseObject({ embedding: z.array(z.number()) }),
};

const hint = <T extends z.ZodType>(t: T) => t.optional().catch(undefined);

/** One chat/generate answer or stream line as the translators read it. Counts are untrusted (checked before use). */
export const ollamaAnswer = z.looseObject({
  /** Anything but an object reads as no message. */
  message: z.preprocess(
    (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined),
    z
      .looseObject({ content: hint(z.string()), thinking: hint(z.string()), tool_calls: z.array(toolCall).nullish() })
      .optional(),
  ),
  response: hint(z.string()),
  thinking: hint(z.string()),
  done: hint(z.boolean()),
  done_reason: hint(z.string()),
  prompt_eval_count: z.unknown().optional(),
  eval_count: z.unknown().optional(),
  error: z.unknown().optional(),
});

export type OllamaAnswer = z.infer<typeof ollamaAnswer>;
