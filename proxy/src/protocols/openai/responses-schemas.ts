/**
 * The OpenAI Responses API (`POST /v1/responses`) as the OpenAI surface validates it: the create request with its
 * input items, tools and options. Permissive like the other OpenAI schemas: the fields the gateway translates are
 * typed (each input item's required fields checked by its `type`), every other field passes through untouched.
 *
 * The gateway keeps no conversation state (docs/protocols.md): `previous_response_id`, `conversation` and
 * `background` are refused with a 400 naming the field, and answers say `store: false`.
 */
import { z } from 'zod';
import { REASONING_EFFORTS } from '../canonical/reasoning.js';
import { refineWith } from '../common/refine.js';

/** A content part of an input message or a tool output: its type is checked here, its fields where it is read. */
const part = z.looseObject({ type: z.string() });

const content = z.union([z.string(), z.array(part)]);

const messageItem = z.looseObject({ role: z.enum(['user', 'assistant', 'system', 'developer']), content });
const functionCallItem = z.looseObject({ call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const functionCallOutputItem = z.looseObject({ call_id: z.string().min(1), output: content });
const reasoningItem = z.looseObject({
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});

/** Fields each item type must carry (an item without `type` is a message). */
const ITEM_FIELDS: Record<string, z.ZodType> = {
  message: messageItem,
  function_call: functionCallItem,
  function_call_output: functionCallOutputItem,
  reasoning: reasoningItem,
};

/** One input item: a message, a function call or its output, a reasoning item, or another type passed through. */
const inputItem = z
  .looseObject({
    type: z.string().optional(),
    role: z.string().optional(),
    content: z.unknown().optional(),
  })
  .superRefine((item, ctx) => {
    const shape = ITEM_FIELDS[item.type ?? 'message'];
    if (shape) refineWith(shape, item, ctx);
  });

/** A tool: function tools need a name; built-in tools (web search, file search, …) only a type. */
const tool = z
  .looseObject({
    type: z.string(),
    name: z.string().min(1).optional(),
    description: z.string().nullish(),
    parameters: z.looseObject({}).nullish(),
    strict: z.boolean().nullish(),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'function') refineWith(z.string().min(1), t.name, ctx, ['name']);
  });

const toolChoice = z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]);

/** A stateful field the gateway refuses: it keeps no responses to continue from. */
const stateless = (why: string) =>
  z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      if (v !== undefined && v !== null && v !== false) ctx.addIssue({ code: 'custom', message: why });
    });

const NO_STATE =
  'is not supported: Switchyard keeps no response state (store is always false); send the whole conversation in input';

/** A Responses API create request. */
export const responsesRequest = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(inputItem).min(1)]),
    instructions: z.string().nullish(),
    max_output_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    stream: z.boolean().nullish(),
    tools: z.array(tool).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.looseObject({ format: z.looseObject({ type: z.string() }).optional() }).nullish(),
    reasoning: z.looseObject({ effort: z.enum(REASONING_EFFORTS).nullish(), summary: z.string().nullish() }).nullish(),
    store: z.boolean().nullish(),
    user: z.string().optional(),
    previous_response_id: stateless(NO_STATE),
    conversation: stateless(NO_STATE),
    background: stateless('is not supported: a background response is stored to be polled, and Switchyard stores none'),
  })
  .loose();

export type ResponsesRequest = z.infer<typeof responsesRequest>;
export type ResponsesInputItem = Exclude<ResponsesRequest['input'], string>[number];
export type ResponsesTool = NonNullable<ResponsesRequest['tools']>[number];

/** What a Responses answer from an upstream that serves the API must carry for the pass-through to relay it. */
export const responsesAnswer = z.looseObject({
  object: z.literal('response'),
  output: z.array(z.looseObject({ type: z.string() })),
  /** Untrusted: read by usageFromResponses, checked before use. */
  usage: z.unknown().optional(),
});
