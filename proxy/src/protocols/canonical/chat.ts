/**
 * The canonical form every translation goes through: OpenAI Chat Completions objects. A client surface converts its
 * requests to a ChatRequest and ChatResponse/ChatChunk objects back to its format; an upstream protocol converts
 * ChatRequests to its wire format and its answers to ChatResponse/ChatChunk objects.
 *
 * The request schema is also what the OpenAI surface validates chat bodies with: deliberately permissive, it checks
 * the types of the fields the gateway relies on and of well-known fields, and lets every other field through. The
 * answer and chunk schemas say what a translator reads of an OpenAI-protocol upstream's answer; hints a translator
 * can do without (`created`, an id, reasoning text) fall back to undefined when they have the wrong type.
 */
import { z } from 'zod';
import { refineWith } from '../common/refine.js';
import { REASONING_EFFORTS, withReasoningAlias } from './reasoning.js';

/** `function` is required on function tools and tool calls (the default type); other types (custom) carry none. */
const functionRequired = (v: { type?: string | undefined; function?: unknown }, ctx: z.RefinementCtx) => {
  if ((v.type === undefined || v.type === 'function') && v.function === undefined)
    refineWith(z.looseObject({}), undefined, ctx, ['function']);
};

const functionCall = z.looseObject({ name: z.string(), arguments: z.string() });

const toolCall = z
  .looseObject({ id: z.string().optional(), type: z.string().optional(), function: functionCall.optional() })
  .superRefine(functionRequired);

const tool = z
  .looseObject({ type: z.string(), function: z.looseObject({ name: z.string().min(1) }).optional() })
  .superRefine(functionRequired);

/** A content part: its type is checked here, its fields by the translator that reads it. */
const contentPart = z.looseObject({ type: z.string() });

const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    tool_call_id: z.string().optional(),
    /** The reasoning of an earlier assistant turn (see reasoning.ts). */
    reasoning_content: z.string().nullish(),
  })
  .loose();

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
const stop = z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional();

/** Sampling fields OpenAI chat and completions requests share. */
export const sampling = {
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

/** A chat completion request (the OpenAI surface's `POST /v1/chat/completions` body). */
export const chatRequest = z
  .object({
    ...sampling,
    messages: z.array(message).min(1),
    max_completion_tokens: z.number().int().min(1).nullable().optional(),
    tools: z.array(tool).optional(),
    tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).optional(),
    response_format: z.looseObject({ type: z.string() }).optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    reasoning_effort: z.enum(REASONING_EFFORTS).nullish(),
  })
  .loose();

export type ChatRequest = z.infer<typeof chatRequest>;
export type ChatMessage = ChatRequest['messages'][number];
export type ContentPart = z.infer<typeof contentPart>;
export type ChatTool = NonNullable<ChatRequest['tools']>[number];
export type ToolChoice = NonNullable<ChatRequest['tool_choice']>;

/** Why a choice ended; upstreams may send others (vLLM `abort`), which read as `stop`. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** A hint: its value when it has the type, else undefined. */
const hint = <T extends z.ZodType>(t: T) => t.nullish().catch(undefined);

const answerToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: functionCall,
});

/** A non-streamed chat completion, as the translators read it. */
export const chatResponse = z.looseObject({
  id: hint(z.string()),
  created: hint(z.number()),
  choices: z.array(
    z.looseObject({
      index: hint(z.number()),
      message: z.preprocess(
        withReasoningAlias,
        z.looseObject({
          content: z.string().nullish(),
          tool_calls: z.array(answerToolCall).nullish(),
          reasoning_content: hint(z.string()),
          reasoning_signature: hint(z.string()),
        }),
      ),
      finish_reason: hint(z.string()),
    }),
  ),
  /** Untrusted: read by usageFromOpenAI, checked before use. */
  usage: z.unknown().optional(),
  /** Which stop sequence ended the answer, when an upstream says so (Anthropic `stop_sequence`). */
  stop_sequence: hint(z.string()),
});

export type ChatResponse = z.infer<typeof chatResponse>;
export type ChatResponseToolCall = z.infer<typeof answerToolCall>;

const chunkToolCall = z.looseObject({
  index: z.number(),
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

const delta = z.preprocess(
  withReasoningAlias,
  z.looseObject({
    role: hint(z.string()),
    content: z.string().nullish(),
    reasoning_content: hint(z.string()),
    reasoning_signature: hint(z.string()),
    tool_calls: z.array(chunkToolCall).nullish(),
  }),
);

/** One streamed chat completion chunk, as the encoders read it. A chunk without choices may carry the usage. */
export const chatChunk = z.looseObject({
  id: hint(z.string()),
  created: hint(z.number()),
  /** Anything but a list reads as no choices. */
  choices: z.preprocess(
    (v) => (Array.isArray(v) ? v : []),
    z.array(z.looseObject({ index: hint(z.number()), delta: delta.optional(), finish_reason: hint(z.string()) })),
  ),
  usage: z.unknown().optional(),
  stop_sequence: hint(z.string()),
});

export type ChatChunk = z.infer<typeof chatChunk>;
export type ChunkDelta = z.infer<typeof delta>;
export type ChunkToolCall = z.infer<typeof chunkToolCall>;

/** A canonical chunk with one choice, as the decoders of translated streams write them. */
export function oneChoiceChunk(
  head: { id: string; created: number; model: string },
  delta: ChunkDelta,
  finish: FinishReason | null = null,
): ChatChunk {
  return { ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] };
}

/** The message of a translated answer: text (null with tool calls only), tool calls and reasoning when present. */
export interface AnswerParts {
  content: string | null;
  toolCalls: ChatResponseToolCall[];
  reasoning: string | null | undefined;
  /** Anthropic's signature of the reasoning (one thinking block), for clients that can send it back. */
  reasoningSignature?: string | undefined;
}

/** A canonical answer with one choice, as the translators of upstream answers write them. */
export function oneChoiceResponse(
  head: { id: string; model: string },
  parts: AnswerParts,
  finish: FinishReason,
  usage: unknown,
): ChatResponse {
  const message = {
    role: 'assistant',
    content: parts.content,
    ...(parts.toolCalls.length ? { tool_calls: parts.toolCalls } : {}),
    ...(parts.reasoning ? { reasoning_content: parts.reasoning } : {}),
    ...(parts.reasoning && parts.reasoningSignature ? { reasoning_signature: parts.reasoningSignature } : {}),
  };
  return {
    ...head,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
    ...(usage !== undefined ? { usage } : {}),
  };
}
