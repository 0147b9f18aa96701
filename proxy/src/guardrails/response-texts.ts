/**
 * The answer texts response-side guardrails check, in the client's own format (what the client receives): a whole
 * JSON answer (chat and completion choices, Anthropic text blocks, Ollama message or response), or one event of a
 * stream (OpenAI SSE `choices[].delta.content` / `choices[].text`, Anthropic `content_block_delta` text deltas,
 * Ollama NDJSON `message.content` / `response`, Responses `output_text` parts and deltas). Each text has a slot key
 * (the choice or block it belongs to), so a stream's texts are windowed per choice. Events are rewritten with other texts; everything else stays as it was.
 */
import type { Operation } from '../protocols/catalog.js';

type Json = Record<string, unknown>;

/** One text of an answer or event: its slot, and how to read and replace it. */
export interface TextSlot {
  key: string;
  get(): string;
  set(text: string): void;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function slot(key: string, holder: Json, field: string, out: TextSlot[]): void {
  if (typeof holder[field] === 'string')
    out.push({ key, get: () => holder[field] as string, set: (t) => (holder[field] = t) });
}

function choices(body: Json, inner: 'message' | 'delta' | undefined, field: string, out: TextSlot[]): void {
  if (!Array.isArray(body.choices)) return;
  body.choices.forEach((c, i) => {
    if (!isObject(c)) return;
    const key = `c${typeof c.index === 'number' ? c.index : i}`;
    const holder = inner ? c[inner] : c;
    if (isObject(holder)) slot(key, holder, field, out);
  });
}

/** The `output_text` parts of Responses output items (`message` items), each its own slot under `prefix`. */
function responseOutput(prefix: string, items: unknown, out: TextSlot[]): void {
  if (!Array.isArray(items)) return;
  items.forEach((item, i) => {
    if (!isObject(item) || !Array.isArray(item.content)) return;
    const id = typeof item.id === 'string' ? item.id : String(i);
    item.content.forEach((p, j) => {
      if (isObject(p) && p.type === 'output_text') slot(`${prefix}:${id}:${j}`, p, 'text', out);
    });
  });
}

/**
 * A Responses stream event's texts: a text delta, and the full texts the closing events repeat (`output_text.done`,
 * `content_part.done`, `output_item.done`, the final response), each checked whole under its own slot.
 */
function responseEventSlots(data: Json, out: TextSlot[]): void {
  const id = typeof data.item_id === 'string' ? data.item_id : '';
  switch (data.type) {
    case 'response.output_text.delta':
      slot(`t:${id}`, data, 'delta', out);
      break;
    case 'response.output_text.done':
      slot(`d:${id}`, data, 'text', out);
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
          if (isObject(b) && b.type === 'text') slot(`b${i}`, b, 'text', out);
        });
      break;
    case 'ollama_chat':
      if (isObject(body.message)) slot('o', body.message, 'content', out);
      break;
    case 'ollama_generate':
      slot('o', body, 'response', out);
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
      if (data.type === 'content_block_delta' && isObject(data.delta) && data.delta.type === 'text_delta')
        slot(`b${typeof data.index === 'number' ? data.index : 0}`, data.delta, 'text', out);
      break;
    case 'ollama_chat':
      if (isObject(data.message)) slot('o', data.message, 'content', out);
      break;
    case 'ollama_generate':
      slot('o', data, 'response', out);
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
      return data.type === 'response.output_text.delta';
    default:
      return false;
  }
}
