/**
 * Ollama `/api/chat` and `/api/generate` requests → canonical chat requests (an Ollama client served by an
 * OpenAI-protocol or Anthropic upstream). Ollama tool calls carry no ids: ids are assigned in order and each tool
 * message answers the oldest open call with its `tool_name` (or the oldest open call). `think` becomes
 * `reasoning_effort` and an assistant turn's `thinking` its reasoning. `keep_alive` and server knobs in `options`
 * (num_ctx, num_gpu, …) are ignored; anything else without an equivalent gets a 400.
 */
import type { ChatMessage, ChatRequest, ContentPart } from '../canonical/chat.js';
import type { ReasoningEffort } from '../canonical/reasoning.js';
import { sniffMediaType } from '../common/images.js';
import { isRecord, refuseUnknownFields, untranslatable } from '../common/json.js';
import { type Sampling, samplingFromOllamaOptions } from './options.js';
import type { OllamaChatRequest, OllamaGenerateRequest, OllamaMessage } from './schemas.js';

const CHAT_FIELDS = new Set(['model', 'messages', 'tools', 'format', 'options', 'stream', 'keep_alive', 'think']);
const GENERATE_FIELDS = new Set([
  'model',
  'prompt',
  'system',
  'images',
  'format',
  'options',
  'stream',
  'keep_alive',
  'raw',
  'think',
]);

function checkFields(body: OllamaChatRequest | OllamaGenerateRequest, allowed: ReadonlySet<string>): void {
  refuseUnknownFields(body, allowed, 'is not supported when the upstream is not Ollama', ['']);
}

/** `think` as a reasoning effort: a level as itself, true as `medium`, false as `none`. */
function effortOfThink(think: OllamaChatRequest['think']): { reasoning_effort?: ReasoningEffort } {
  if (think === undefined) return {};
  if (think === true) return { reasoning_effort: 'medium' };
  if (think === false) return { reasoning_effort: 'none' };
  return { reasoning_effort: think };
}

function common(
  body: OllamaChatRequest | OllamaGenerateRequest,
): Sampling & { response_format?: NonNullable<ChatRequest['response_format']> } {
  const out: Sampling & { response_format?: NonNullable<ChatRequest['response_format']> } = samplingFromOllamaOptions(
    body.options,
  );
  if (body.format === 'json') out.response_format = { type: 'json_object' };
  else if (isRecord(body.format))
    out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: body.format } };
  else if (body.format !== undefined && body.format !== '')
    throw untranslatable('format', "must be 'json' or a JSON schema");
  return out;
}

function userContent(text: string, images: readonly string[] | null | undefined): string | ContentPart[] {
  if (!images?.length) return text;
  const parts: ContentPart[] = text ? [{ type: 'text', text }] : [];
  for (const b64 of images)
    parts.push({ type: 'image_url', image_url: { url: `data:${sniffMediaType(b64)};base64,${b64}` } });
  return parts;
}

function convertMessages(messages: readonly OllamaMessage[]): ChatMessage[] {
  const open: Array<{ id: string; name: string }> = [];
  let next = 0;
  return messages.map((m, i): ChatMessage => {
    if (m.images?.length && m.role !== 'user')
      throw untranslatable(`messages[${i}].images`, `only user messages can carry images for this upstream`);
    if (m.role === 'system') return { role: 'system', content: m.content ?? '' };
    if (m.role === 'user') return { role: 'user', content: userContent(m.content ?? '', m.images) };
    if (m.role === 'assistant') {
      const reasoning = m.thinking ? { reasoning_content: m.thinking } : {};
      if (!m.tool_calls?.length) return { role: 'assistant', content: m.content ?? '', ...reasoning };
      const tool_calls = m.tool_calls.map((c) => {
        const id = c.id ?? `call_${next++}`;
        open.push({ id, name: c.function.name });
        return {
          id,
          type: 'function' as const,
          function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) },
        };
      });
      return { role: 'assistant', content: m.content ? m.content : null, tool_calls, ...reasoning };
    }
    if (m.role === 'tool') {
      const at = Math.max(
        0,
        open.findIndex((c) => c.name === m.tool_name),
      );
      const call = open.splice(at, 1)[0];
      if (!call)
        throw untranslatable(`messages[${i}]`, 'a tool message must follow an assistant message with tool_calls');
      return { role: 'tool', tool_call_id: call.id, content: m.content ?? '' };
    }
    throw untranslatable(`messages[${i}].role`, `role '${String(m.role)}' is not supported`);
  });
}

/** A validated `/api/chat` body as a canonical request. */
export function chatRequestFromOllamaChat(body: OllamaChatRequest, model: string): ChatRequest {
  checkFields(body, CHAT_FIELDS);
  const out: ChatRequest = {
    model,
    messages: convertMessages(body.messages),
    ...common(body),
    ...effortOfThink(body.think),
  };
  if (body.tools?.length) out.tools = body.tools;
  return out;
}

/** A validated `/api/generate` body as a canonical chat request (system + one user turn). */
export function chatRequestFromOllamaGenerate(body: OllamaGenerateRequest, model: string): ChatRequest {
  checkFields(body, GENERATE_FIELDS);
  if (body.raw === true) throw untranslatable('raw', 'raw prompts can only be sent to Ollama upstreams');
  const messages: ChatMessage[] = [];
  if (typeof body.system === 'string' && body.system !== '') messages.push({ role: 'system', content: body.system });
  messages.push({ role: 'user', content: userContent(body.prompt ?? '', body.images) });
  return { model, messages, ...common(body), ...effortOfThink(body.think) };
}
