/**
 * A Responses API request as a canonical chat request, for upstreams served through chat (Anthropic, Ollama, and
 * OpenAI-protocol servers without their own Responses API). `instructions` become the first system message; input
 * messages keep their roles (`input_text`/`output_text` parts become text parts, `input_image` an `image_url`);
 * `function_call` items become the assistant's tool calls (consecutive ones join one assistant turn) and
 * `function_call_output` items tool messages; a `reasoning` item is the reasoning of the assistant turn after it
 * (its `encrypted_content`, an Anthropic signature the gateway handed out, goes with it).
 * Function tools and `tool_choice` map to their chat forms, `text.format` to `response_format`,
 * `max_output_tokens` to `max_tokens` and `reasoning.effort` to `reasoning_effort`. What chat cannot express —
 * built-in tools, file inputs, other item types, hosted prompts, unknown fields — is refused with a 400 naming the field.
 */
import type { ChatMessage, ChatRequest, ChatTool, ContentPart, ToolChoice } from '../canonical/chat.js';
import { isRecord, refuseUnknownFields, untranslatable } from '../common/json.js';
import type { ResponsesInputItem, ResponsesRequest } from './responses-schemas.js';

const NATIVE = 'needs an upstream that serves the Responses API itself (vLLM, OpenAI)';

function part(p: Readonly<Record<string, unknown>>, param: string): ContentPart {
  if ((p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') && typeof p.text === 'string')
    return { type: 'text', text: p.text };
  if (p.type === 'refusal' && typeof p.refusal === 'string') return { type: 'text', text: p.refusal };
  if (p.type === 'input_image' && typeof p.image_url === 'string')
    return { type: 'image_url', image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } };
  throw untranslatable(`${param}.type`, `content part '${String(p.type)}' ${NATIVE}`);
}

function contentOf(c: unknown, param: string): string | ContentPart[] {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c.map((p, j) => part(isRecord(p) ? p : {}, `${param}[${j}]`));
}

/** The text of a tool output (chat tool messages carry text). */
function outputText(output: unknown, param: string): string {
  if (typeof output === 'string') return output;
  const parts = contentOf(output, param);
  return typeof parts === 'string' ? parts : parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

function reasoningText(item: ResponsesInputItem): string {
  const blocks = Array.isArray(item.content) && item.content.length ? item.content : item.summary;
  if (!Array.isArray(blocks)) return '';
  return blocks.map((b) => (isRecord(b) && typeof b.text === 'string' ? b.text : '')).join('');
}

/** The input items as chat messages. */
function messagesOf(input: ResponsesRequest['input']): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const out: ChatMessage[] = [];
  let reasoning: string | undefined;
  let signature: string | undefined;
  /** The assistant turn tool calls join: the one just written, until another kind of item comes. */
  let turn: ChatMessage | undefined;
  input.forEach((item, i) => {
    const param = `input[${i}]`;
    const type = item.type ?? 'message';
    if (type === 'reasoning') {
      reasoning = (reasoning ?? '') + reasoningText(item);
      signature = typeof item.encrypted_content === 'string' ? item.encrypted_content : undefined;
      return;
    }
    const thought = reasoning
      ? { reasoning_content: reasoning, ...(signature ? { reasoning_signature: signature } : {}) }
      : {};
    if (type === 'function_call') {
      const call = {
        id: String(item.call_id),
        type: 'function',
        function: { name: String(item.name), arguments: String(item.arguments) },
      };
      if (turn) turn.tool_calls = [...(turn.tool_calls ?? []), call];
      else {
        turn = { role: 'assistant', content: null, tool_calls: [call], ...thought };
        out.push(turn);
      }
      reasoning = undefined;
      signature = undefined;
      return;
    }
    turn = undefined;
    if (type === 'function_call_output') {
      out.push({
        role: 'tool',
        tool_call_id: String(item.call_id),
        content: outputText(item.output, `${param}.output`),
      });
      return;
    }
    if (type !== 'message') throw untranslatable(`${param}.type`, `input item '${type}' ${NATIVE}`);
    const role = item.role === 'developer' ? 'system' : (item.role ?? 'user');
    if (role !== 'user' && role !== 'assistant' && role !== 'system')
      throw untranslatable(`${param}.role`, `role '${role}' cannot be translated`);
    const message: ChatMessage = { role, content: contentOf(item.content, `${param}.content`) };
    if (role === 'assistant') {
      Object.assign(message, thought);
      reasoning = undefined;
      signature = undefined;
      turn = message;
    }
    out.push(message);
  });
  return out;
}

function toolsOf(tools: ResponsesRequest['tools']): ChatTool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((t, i) => {
    if (t.type !== 'function') throw untranslatable(`tools[${i}].type`, `tool type '${t.type}' ${NATIVE}`);
    return {
      type: 'function',
      function: {
        name: String(t.name),
        ...(typeof t.description === 'string' ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(typeof t.strict === 'boolean' ? { strict: t.strict } : {}),
      },
    };
  });
}

function toolChoiceOf(c: ResponsesRequest['tool_choice']): ToolChoice | undefined {
  if (c === undefined || typeof c === 'string') return c;
  if (c.type === 'function' && typeof c.name === 'string') return { type: 'function', function: { name: c.name } };
  throw untranslatable('tool_choice', `'${c.type}' ${NATIVE}`);
}

function responseFormatOf(text: ResponsesRequest['text']): ChatRequest['response_format'] {
  const f = text?.format;
  if (!f || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema')
    return {
      type: 'json_schema',
      json_schema: {
        name: typeof f.name === 'string' ? f.name : 'response',
        ...(isRecord(f.schema) ? { schema: f.schema } : {}),
        ...(typeof f.strict === 'boolean' ? { strict: f.strict } : {}),
        ...(typeof f.description === 'string' ? { description: f.description } : {}),
      },
    };
  throw untranslatable('text.format.type', `'${f.type}' cannot be translated`);
}

/**
 * Fields translated, and fields ignored on purpose: hints that change nothing a chat upstream produces (`store` is
 * always false, `metadata`, `include`, `truncation`, `service_tier`, cache and safety keys, stream options).
 */
const HANDLED = new Set([
  ...['model', 'input', 'instructions', 'max_output_tokens', 'temperature', 'top_p', 'stream', 'tools'],
  ...['tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'user', 'previous_response_id', 'conversation'],
  ...['background', 'store', 'metadata', 'include', 'truncation', 'service_tier', 'prompt_cache_key'],
  ...['safety_identifier', 'stream_options'],
]);

/** `body` as a canonical chat request (model and stream are set by the upstream half). */
export function chatFromResponses(body: ResponsesRequest): ChatRequest {
  refuseUnknownFields(body, HANDLED, NATIVE);
  const messages = messagesOf(body.input);
  if (body.instructions) messages.unshift({ role: 'system', content: body.instructions });
  const chat: ChatRequest = { model: body.model, messages };
  const tools = toolsOf(body.tools);
  if (tools) chat.tools = tools;
  const choice = toolChoiceOf(body.tool_choice);
  if (choice !== undefined) chat.tool_choice = choice;
  if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls;
  if (body.max_output_tokens != null) chat.max_tokens = body.max_output_tokens;
  if (body.temperature != null) chat.temperature = body.temperature;
  if (body.top_p != null) chat.top_p = body.top_p;
  const format = responseFormatOf(body.text);
  if (format) chat.response_format = format;
  if (body.reasoning?.effort) chat.reasoning_effort = body.reasoning.effort;
  if (typeof body.user === 'string') chat.user = body.user;
  if (body.stream) chat.stream = true;
  return chat;
}
