/**
 * The Anthropic Messages wire format. Client requests follow the Messages API's own rules (max_tokens required,
 * roles user/assistant only, temperature 0..1, the required fields of text/image/tool_use/tool_result/thinking
 * blocks); unknown fields and block types pass through to Anthropic upstreams, and translating adapters refuse the
 * ones they cannot express. The same request type is what the gateway sends Anthropic upstreams. Answers: what a
 * non-streamed message must carry.
 */
import { z } from 'zod';
import { refineWith } from '../common/refine.js';

/** The image media types Anthropic accepts. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

/** Whether `t` is an image media type Anthropic accepts. */
export const isImageType = (t: string): t is (typeof IMAGE_TYPES)[number] =>
  (IMAGE_TYPES as readonly string[]).includes(t);
const imageSource = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: z.enum(IMAGE_TYPES), data: z.string().min(1) }),
  z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  z.looseObject({ type: z.literal('file'), file_id: z.string().min(1) }),
]);

/** The fields Anthropic requires on the block types the gateway reads or translates; other types pass through. */
const BLOCK_FIELDS = {
  text: { text: z.string() },
  image: { source: imageSource },
  tool_use: { id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) },
  tool_result: {
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
    is_error: z.boolean().optional(),
  },
  thinking: { thinking: z.string(), signature: z.string() },
  redacted_thinking: { data: z.string() },
};

/** Each known block type with its fields. */
const KNOWN_BLOCKS = {
  text: z.looseObject({ type: z.literal('text'), ...BLOCK_FIELDS.text }),
  image: z.looseObject({ type: z.literal('image'), ...BLOCK_FIELDS.image }),
  tool_use: z.looseObject({ type: z.literal('tool_use'), ...BLOCK_FIELDS.tool_use }),
  tool_result: z.looseObject({ type: z.literal('tool_result'), ...BLOCK_FIELDS.tool_result }),
  thinking: z.looseObject({ type: z.literal('thinking'), ...BLOCK_FIELDS.thinking }),
  redacted_thinking: z.looseObject({ type: z.literal('redacted_thinking'), ...BLOCK_FIELDS.redacted_thinking }),
};

/** The field checks of each known block type, for the request schema's refinement. */
const FIELD_CHECKS: Record<keyof typeof BLOCK_FIELDS, z.ZodType> = {
  text: z.looseObject(BLOCK_FIELDS.text),
  image: z.looseObject(BLOCK_FIELDS.image),
  tool_use: z.looseObject(BLOCK_FIELDS.tool_use),
  tool_result: z.looseObject(BLOCK_FIELDS.tool_result),
  thinking: z.looseObject(BLOCK_FIELDS.thinking),
  redacted_thinking: z.looseObject(BLOCK_FIELDS.redacted_thinking),
};

type KnownBlocks = typeof KNOWN_BLOCKS;
export type KnownBlockType = keyof KnownBlocks;
/** A block of known type `K`, with the fields Anthropic requires on it. */
export type KnownBlock<K extends KnownBlockType> = z.infer<KnownBlocks[K]>;

const isKnownType = (t: string): t is KnownBlockType => Object.hasOwn(KNOWN_BLOCKS, t);

/** A content block: its type is checked, and the fields of the known types. */
const block = z.looseObject({ type: z.string() }).superRefine((b, ctx) => {
  if (isKnownType(b.type)) refineWith(FIELD_CHECKS[b.type], b, ctx);
});
export type AnthropicBlock = z.infer<typeof block>;

/** A reader of one schema: the value it parses, or undefined. */
const reader =
  <T>(schema: z.ZodType<T>) =>
  (v: unknown): T | undefined => {
    const r = schema.safeParse(v);
    return r.success ? r.data : undefined;
  };

const READ_BLOCK: { [K in KnownBlockType]: (b: unknown) => KnownBlock<K> | undefined } = {
  text: reader(KNOWN_BLOCKS.text),
  image: reader(KNOWN_BLOCKS.image),
  tool_use: reader(KNOWN_BLOCKS.tool_use),
  tool_result: reader(KNOWN_BLOCKS.tool_result),
  thinking: reader(KNOWN_BLOCKS.thinking),
  redacted_thinking: reader(KNOWN_BLOCKS.redacted_thinking),
};

/**
 * `b` as a block of type `type` when it is one and carries that type's fields (checked again here, so a reader gets
 * them typed), else undefined.
 */
export function knownBlock<K extends KnownBlockType>(b: { type: string }, type: K): KnownBlock<K> | undefined {
  return b.type === type ? READ_BLOCK[type](b) : undefined;
}

export type AnthropicImageSource = z.infer<typeof imageSource>;
export type AnthropicTextBlock = KnownBlock<'text'>;

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

/** A Messages request (`POST /v1/messages`), from clients and to Anthropic upstreams. */
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

/** A count_tokens request (`POST /v1/messages/count_tokens`). */
export const countTokensRequest = z.looseObject(common);

export type MessagesRequest = z.infer<typeof messagesRequest>;
export type CountTokensRequest = z.infer<typeof countTokensRequest>;
export type AnthropicMessage = MessagesRequest['messages'][number];
export type AnthropicTool = NonNullable<MessagesRequest['tools']>[number];
export type AnthropicToolChoice = NonNullable<MessagesRequest['tool_choice']>;

/** Request bodies of the Anthropic surface's operations. */
export interface AnthropicBodies {
  messages: MessagesRequest;
  count_tokens: CountTokensRequest;
}

/** Schemas of the Anthropic surface's request bodies. */
export const ANTHROPIC_REQUESTS = { messages: messagesRequest, count_tokens: countTokensRequest };

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

/** A non-streamed message answer as the translators read it (hints of the wrong type read as absent). */
export const messageAnswer = z.looseObject({
  id: z.string().nullish().catch(undefined),
  type: z.string(),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullish().catch(undefined),
  stop_sequence: z.string().nullish().catch(undefined),
  /** Untrusted: read by usageFromAnthropic, checked before use. */
  usage: z.unknown().optional(),
});

export type MessageAnswer = z.infer<typeof messageAnswer>;

/** What each Anthropic answer must carry for the pass-through to relay it (non-streamed). */
export const ANTHROPIC_ANSWER = {
  messages: z.looseObject({
    type: z.string(),
    content: z.array(z.looseObject({ type: z.string() })),
    usage: z.unknown(),
  }),
  count_tokens: z.looseObject({ input_tokens: z.number() }),
};
