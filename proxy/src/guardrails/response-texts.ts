/**
 * The answer texts response-side guardrails check, in the client's own format (what the client receives): a whole
 * JSON answer (chat and completion choices, Anthropic text blocks, Ollama message or response), or one event of a
 * stream (OpenAI SSE `choices[].delta.content` / `choices[].text`, Anthropic `content_block_delta` text deltas,
 * Ollama NDJSON `message.content` / `response`, Responses `output_text` parts and deltas). The model's reasoning is
 * checked alike wherever a surface carries it: chat `reasoning_content` and `reasoning`, Anthropic `thinking` blocks
 * and `thinking_delta`s, Ollama `thinking`, Responses `reasoning` items (`reasoning_text` and `summary_text` parts,
 * their deltas and closing events); signatures and redacted thinking are opaque and left alone. Each text has a slot
 * key (the choice, block or item it belongs to; a choice's reasoning its own), so a stream's texts are windowed per
 * slot. Events are rewritten with other texts; everything else stays as it was.
 */
import type { Operation } from '../protocols/catalog.js';

type Json = Record<string, unknown>;

/** One text of an answer or event: its slot, and how to read and replace it. */
export interface TextSlot {
  key: string;
  /** Slots whose held text leaves before any text of this one (a choice's reasoning before its answer). */
  after?: readonly string[];
  get(): string;
  set(text: string): void;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function slot(key: string, holder: Json, field: string, out: TextSlot[], after?: readonly string[]): void {
  if (typeof holder[field] === 'string')
    out.push({ key, ...(after ? { after } : {}), get: () => holder[field] as string, set: (t) => (holder[field] = t) });
}

/** The chat reasoning fields a message or delta may carry (llama.cpp and DeepSeek, vLLM since 0.11). */
const CHAT_REASONING = ['reasoning_content', 'reasoning'] as const;

/** A holder's reasoning under `fields` (each its own slot `key/field`), then its answer `field`, read after them. */
function withReasoning(key: string, holder: Json, field: string, fields: readonly string[], out: TextSlot[]): void {
  for (const f of fields) slot(`${key}/${f}`, holder, f, out);
  slot(
    key,
    holder,
    field,
    out,
    fields.map((f) => `${key}/${f}`),
  );
}

function choices(body: Json, inner: 'message' | 'delta' | undefined, field: string, out: TextSlot[]): void {
  if (!Array.isArray(body.choices)) return;
  body.choices.forEach((c, i) => {
    if (!isObject(c)) return;
    const key = `c${typeof c.index === 'number' ? c.index : i}`;
    const holder = inner ? c[inner] : c;
    if (isObject(holder)) withReasoning(key, holder, field, inner ? CHAT_REASONING : [], out);
  });
}

/** The text-carrying part types of Responses items: answer text, reasoning text and reasoning summaries. */
const RESPONSE_PARTS = new Set(['output_text', 'reasoning_text', 'summary_text']);

/** The text parts of Responses output items (`message` and `reasoning` items), each its own slot under `prefix`. */
function responseOutput(prefix: string, items: unknown, out: TextSlot[]): void {
  if (!Array.isArray(items)) return;
  items.forEach((item, i) => {
    if (!isObject(item)) return;
    const id = typeof item.id === 'string' ? item.id : String(i);
    for (const field of ['content', 'summary'] as const) {
      const parts = item[field];
      if (!Array.isArray(parts)) continue;
      const tag = field === 'content' ? '' : 's';
      parts.forEach((p, j) => {
        if (isObject(p) && RESPONSE_PARTS.has(String(p.type))) slot(`${prefix}:${id}:${tag}${j}`, p, 'text', out);
      });
    }
  });
}

/** Anthropic content blocks: text blocks' `text`, thinking blocks' `thinking`. */
function anthropicBlock(key: string, block: Json, out: TextSlot[]): void {
  if (block.type === 'text' || block.type === 'text_delta') slot(key, block, 'text', out);
  else if (block.type === 'thinking' || block.type === 'thinking_delta') slot(key, block, 'thinking', out);
}

/**
 * A Responses stream event's texts: a text delta, and the full texts the closing events repeat (`output_text.done`,
 * `content_part.done`, `output_item.done`, the final response), each checked whole under its own slot.
 */
function responseEventSlots(data: Json, out: TextSlot[]): void {
  const id = typeof data.item_id === 'string' ? data.item_id : '';
  const part = typeof data.summary_index === 'number' ? data.summary_index : 0;
  switch (data.type) {
    case 'response.output_text.delta':
    case 'response.reasoning_text.delta':
      slot(`t:${id}`, data, 'delta', out);
      break;
    case 'response.reasoning_summary_text.delta':
      slot(`s:${id}:${part}`, data, 'delta', out);
      break;
    case 'response.output_text.done':
    case 'response.reasoning_text.done':
      slot(`d:${id}`, data, 'text', out);
      break;
    case 'response.reasoning_summary_text.done':
      slot(`ds:${id}:${part}`, data, 'text', out);
      break;
    case 'response.reasoning_summary_part.done':
      if (isObject(data.part)) slot(`ps:${id}:${part}`, data.part, 'text', out);
      break;
    case 'response.content_part.done':
      if (isObject(data.part)) slot(`p:${id}`, data.part, 'text', out);
      break;
    case 'response.output_item.done':
      responseOutput('i', [data.item], out);
      break;
    case 'response.completed':
    case 'response.incomplete':
      if (isObject(data.response)) responseOutput('r', data.response.output, out);
      break;
    default:
  }
}

/** The text slots of a whole (non-streamed) answer of `operation`. */
export function answerSlots(operation: Operation, body: Json): TextSlot[] {
  const out: TextSlot[] = [];
  switch (operation) {
    case 'chat':
      choices(body, 'message', 'content', out);
      break;
    case 'completions':
      choices(body, undefined, 'text', out);
      break;
    case 'messages':
      if (Array.isArray(body.content))
        body.content.forEach((b, i) => {
          if (isObject(b)) anthropicBlock(`b${i}`, b, out);
        });
      break;
    case 'ollama_chat':
      if (isObject(body.message)) withReasoning('o', body.message, 'content', ['thinking'], out);
      break;
    case 'ollama_generate':
      withReasoning('o', body, 'response', ['thinking'], out);
      break;
    case 'responses':
      responseOutput('o', body.output, out);
      break;
    default:
  }
  return out;
}

/** The text slots of one stream event's JSON payload. */
export function eventSlots(operation: Operation, data: Json): TextSlot[] {
  const out: TextSlot[] = [];
  switch (operation) {
    case 'chat':
      choices(data, 'delta', 'content', out);
      break;
    case 'completions':
      choices(data, undefined, 'text', out);
      break;
    case 'messages':
      // A block's start may carry text of its own (it is empty from Anthropic, but an upstream decides that).
      if (data.type === 'content_block_delta' && isObject(data.delta))
        anthropicBlock(`b${typeof data.index === 'number' ? data.index : 0}`, data.delta, out);
      else if (data.type === 'content_block_start' && isObject(data.content_block))
        anthropicBlock(`b${typeof data.index === 'number' ? data.index : 0}`, data.content_block, out);
      break;
    case 'ollama_chat':
      if (isObject(data.message)) withReasoning('o', data.message, 'content', ['thinking'], out);
      break;
    case 'ollama_generate':
      withReasoning('o', data, 'response', ['thinking'], out);
      break;
    case 'responses':
      responseEventSlots(data, out);
      break;
    default:
  }
  return out;
}

/**
 * Whether an event only carries text on (a text delta): anything else — a finish reason, a block or message end,
 * the final Ollama object, OpenAI's usage chunk — must not overtake text held back before it.
 */
export function isPureTextEvent(operation: Operation, data: Json): boolean {
  switch (operation) {
    case 'chat':
    case 'completions':
      return (
        Array.isArray(data.choices) &&
        data.choices.length > 0 &&
        data.choices.every((c) => isObject(c) && (c.finish_reason === null || c.finish_reason === undefined)) &&
        !isObject(data.usage)
      );
    case 'messages':
      return data.type === 'content_block_delta' || data.type === 'ping';
    case 'ollama_chat':
    case 'ollama_generate':
      return data.done !== true;
    case 'responses':
      return (
        data.type === 'response.output_text.delta' ||
        data.type === 'response.reasoning_text.delta' ||
        data.type === 'response.reasoning_summary_text.delta'
      );
    default:
      return false;
  }
}
