/**
 * The texts of a client request that request-side guardrails check, in the client's own format (before any
 * translation), and the body with replacement texts written back. Per operation: chat and Ollama chat messages
 * (string contents and text parts), Anthropic `system` and message text blocks, completion and Ollama generate
 * prompts (and `system`), embedding inputs, Responses instructions and input
 * messages (and function outputs), the rerank query and documents. The reasoning of earlier assistant turns is
 * checked too, as it goes upstream as text: chat `reasoning_content` and `reasoning`, Ollama `thinking`, Anthropic
 * thinking blocks, Responses `reasoning` items' text and summary parts. Images, token ids, tool calls, signatures,
 * redacted thinking and other fields are left alone.
 */
import type { Operation } from '../protocols/catalog.js';
import type { ClientRequest } from '../protocols/requests.js';

type Body = Record<string, unknown>;

/** One text in the body: where it is read from and written to. */
interface Slot {
  get(): string;
  set(text: string): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(obj: Record<string, unknown>, key: string, out: Slot[]): void {
  if (typeof obj[key] === 'string') out.push({ get: () => obj[key] as string, set: (t) => (obj[key] = t) });
}

function strings(arr: unknown[], out: Slot[]): void {
  arr.forEach((v, i) => {
    if (typeof v === 'string') out.push({ get: () => arr[i] as string, set: (t) => (arr[i] = t) });
  });
}

/**
 * A message content: a string, or parts of which `text` ones count (OpenAI `{type:text,text}`, Anthropic blocks)
 * and Anthropic `thinking` blocks' text.
 */
function content(holder: Record<string, unknown>, key: string, out: Slot[]): void {
  const c = holder[key];
  if (typeof c === 'string') field(holder, key, out);
  else if (Array.isArray(c))
    for (const part of c) {
      if (!isObject(part)) continue;
      if (part.type === 'text') field(part, 'text', out);
      else if (part.type === 'thinking') field(part, 'thinking', out);
    }
}

/** A chat or Ollama message: its reasoning fields (earlier assistant turns), then its content. */
function message(m: Record<string, unknown>, reasoning: readonly string[], out: Slot[]): void {
  for (const f of reasoning) field(m, f, out);
  content(m, 'content', out);
}

/** A Responses `reasoning` item's text: its `content` and `summary` parts. */
function reasoningItem(item: Record<string, unknown>, out: Slot[]): void {
  for (const parts of [item.content, item.summary])
    if (Array.isArray(parts)) for (const p of parts) if (isObject(p)) field(p, 'text', out);
}

/** A Responses input message's content: a string, or parts of which `input_text`/`output_text` ones count. */
function inputContent(item: Record<string, unknown>, out: Slot[]): void {
  const c = item.content;
  if (typeof c === 'string') field(item, 'content', out);
  else if (Array.isArray(c))
    for (const part of c)
      if (isObject(part) && /^(input_|output_)?text$/.test(String(part.type))) field(part, 'text', out);
}

function slotsOf(operation: Operation, body: Body): Slot[] {
  const out: Slot[] = [];
  switch (operation) {
    case 'chat':
    case 'ollama_chat': {
      const reasoning = operation === 'chat' ? ['reasoning_content', 'reasoning'] : ['thinking'];
      for (const m of Array.isArray(body.messages) ? body.messages : []) if (isObject(m)) message(m, reasoning, out);
      break;
    }
    case 'messages':
    case 'count_tokens':
      content(body, 'system', out);
      for (const m of Array.isArray(body.messages) ? body.messages : []) if (isObject(m)) content(m, 'content', out);
      break;
    case 'completions':
    case 'ollama_generate':
      if (Array.isArray(body.prompt)) strings(body.prompt, out);
      else field(body, 'prompt', out);
      field(body, 'system', out);
      break;
    case 'embeddings':
    case 'ollama_embed':
      if (Array.isArray(body.input)) strings(body.input, out);
      else field(body, 'input', out);
      break;
    case 'responses':
      field(body, 'instructions', out);
      if (!Array.isArray(body.input)) field(body, 'input', out);
      else
        for (const item of body.input) {
          if (!isObject(item)) continue;
          if (item.type === undefined || item.type === 'message') inputContent(item, out);
          else if (item.type === 'function_call_output') field(item, 'output', out);
          else if (item.type === 'reasoning') reasoningItem(item, out);
        }
      break;
    case 'rerank':
      field(body, 'query', out);
      if (Array.isArray(body.documents)) {
        strings(body.documents, out);
        for (const d of body.documents) if (isObject(d)) field(d, 'text', out);
      }
      break;
  }
  return out;
}

/** The guardrail-checked texts of `request`'s body, in order. */
export const requestTexts = (request: ClientRequest): string[] =>
  slotsOf(request.operation, { ...request.body }).map((s) => s.get());

/** A copy of `request` with its texts (as requestTexts lists them) replaced by `texts`; `request` is not changed. */
export function withRequestTexts<O extends Operation>(
  request: ClientRequest<O>,
  texts: readonly string[],
): ClientRequest<O> {
  const body = structuredClone(request.body);
  slotsOf(request.operation, body).forEach((slot, i) => {
    const t = texts[i];
    if (t !== undefined) slot.set(t);
  });
  return { operation: request.operation, body };
}
