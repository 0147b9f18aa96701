/**
 * Anthropic Messages request → canonical chat request (an Anthropic client served by an OpenAI-protocol or Ollama
 * upstream). Untranslatable fields and blocks get a 400 naming them. Ignored, by documented rule: `cache_control` (a
 * caching hint). Extended thinking becomes `reasoning_effort` (by its budget); the thinking blocks of earlier turns
 * become the reasoning of their assistant turn (their signatures are Anthropic's alone and stay behind), redacted
 * thinking is left out.
 */
import type { ChatMessage, ChatRequest, ChatTool, ContentPart, ToolChoice } from '../canonical/chat.js';
import { effortOfBudget, type ReasoningEffort } from '../canonical/reasoning.js';
import { isRecord, refuseUnknownFields, untranslatable } from '../common/json.js';
import { urlOfAnthropicSource } from './images.js';
import {
  type AnthropicBlock,
  type AnthropicMessage,
  type AnthropicTool,
  type AnthropicToolChoice,
  knownBlock,
  type MessagesRequest,
} from './schemas.js';

const HANDLED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'stream',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
]);

/** Encrypted thinking only Anthropic can read. */
const DROPPED_BLOCKS = new Set(['redacted_thinking']);
/** Marks a `tool_result` with `is_error: true` for upstreams whose tool messages have no error flag. */
export const TOOL_ERROR_PREFIX = 'Error: ';

type TextPart = { type: 'text'; text: string };

function textParts(content: string | ReadonlyArray<{ type: string }>, param: string): TextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((b, j) => {
    const t = knownBlock(b, 'text');
    if (t) return { type: 'text', text: t.text };
    throw untranslatable(`${param}[${j}].type`, `block type '${String(b.type)}' is not allowed here`);
  });
}

function userMessages(m: AnthropicMessage, i: number): ChatMessage[] {
  if (typeof m.content === 'string') return [{ role: 'user', content: m.content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  m.content.forEach((b: AnthropicBlock, j) => {
    const param = `messages.${i}.content.${j}`;
    const text = knownBlock(b, 'text');
    const image = knownBlock(b, 'image');
    const result = knownBlock(b, 'tool_result');
    if (text) parts.push({ type: 'text', text: text.text });
    else if (image) parts.push({ type: 'image_url', image_url: { url: urlOfAnthropicSource(image.source, param) } });
    else if (result) {
      const own = textParts(result.content ?? '', `${param}.content`);
      let content: string | TextPart[] =
        typeof result.content === 'string' || own.length === 0
          ? typeof result.content === 'string'
            ? result.content
            : ''
          : own;
      // OpenAI tool messages have no error flag: the model is told in the text, as the flag tells Claude.
      if (result.is_error === true)
        content =
          typeof content === 'string'
            ? `${TOOL_ERROR_PREFIX}${content}`
            : [{ type: 'text', text: TOOL_ERROR_PREFIX }, ...content];
      tools.push({ role: 'tool', tool_call_id: result.tool_use_id, content });
    } else throw untranslatable(`${param}.type`, `block type '${b.type}' cannot be sent to this upstream`);
  });
  return parts.length ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantMessage(m: AnthropicMessage, i: number): ChatMessage {
  if (typeof m.content === 'string') return { role: 'assistant', content: m.content };
  let text: string | null = null;
  let reasoning = '';
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  m.content.forEach((b, j) => {
    const t = knownBlock(b, 'text');
    const use = knownBlock(b, 'tool_use');
    const thought = knownBlock(b, 'thinking');
    if (t) text = (text ?? '') + t.text;
    else if (thought) reasoning += thought.thinking;
    else if (use)
      calls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input) } });
    else if (!DROPPED_BLOCKS.has(b.type))
      throw untranslatable(`messages.${i}.content.${j}.type`, `block type '${b.type}' cannot be sent to this upstream`);
  });
  const withReasoning = reasoning ? { reasoning_content: reasoning } : {};
  return calls.length
    ? { role: 'assistant', content: text, tool_calls: calls, ...withReasoning }
    : { role: 'assistant', content: text ?? '', ...withReasoning };
}

/** Extended thinking as a reasoning effort: enabled by its budget, adaptive as `medium`, disabled as none asked. */
function effortOfThinking(thinking: MessagesRequest['thinking']): ReasoningEffort | undefined {
  if (!isRecord(thinking) || thinking.type === 'disabled') return undefined;
  const budget = thinking.budget_tokens;
  return typeof budget === 'number' ? effortOfBudget(budget) : 'medium';
}

function convertTools(tools: readonly AnthropicTool[]): ChatTool[] {
  return tools.map((t, i) => {
    if (t.type !== undefined && t.type !== 'custom')
      throw untranslatable(`tools.${i}.type`, `server tool '${String(t.type)}' cannot be run by this upstream`);
    const f: { name: string; description?: string; parameters?: Record<string, unknown> } = { name: t.name };
    if (typeof t.description === 'string') f.description = t.description;
    if (t.input_schema) f.parameters = t.input_schema;
    return { type: 'function', function: f };
  });
}

function convertToolChoice(c: AnthropicToolChoice): { tool_choice: ToolChoice; parallel_tool_calls?: false } {
  const parallel = c.disable_parallel_tool_use ? { parallel_tool_calls: false as const } : {};
  if (c.type === 'auto') return { tool_choice: 'auto', ...parallel };
  if (c.type === 'any') return { tool_choice: 'required', ...parallel };
  if (c.type === 'none') return { tool_choice: 'none' };
  return { tool_choice: { type: 'function', function: { name: c.name } }, ...parallel };
}

/** Translates a validated Messages request; `model` is the upstream model name. */
export function chatRequestFromAnthropic(req: MessagesRequest, model: string): ChatRequest {
  refuseUnknownFields(req, HANDLED, 'is not supported when the upstream is not Anthropic');
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) {
    const parts = textParts(req.system, 'system');
    if (typeof req.system === 'string') messages.push({ role: 'system', content: req.system });
    else if (parts.length)
      messages.push({ role: 'system', content: parts.length === 1 ? (parts[0] as TextPart).text : parts });
  }
  req.messages.forEach((m, i) => {
    if (m.role === 'user') messages.push(...userMessages(m, i));
    else messages.push(assistantMessage(m, i));
  });
  const out: ChatRequest = { model, messages, max_tokens: req.max_tokens };
  if (req.tools?.length) out.tools = convertTools(req.tools);
  if (req.tool_choice) Object.assign(out, convertToolChoice(req.tool_choice));
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.stream) out.stream = true;
  if (typeof req.metadata?.user_id === 'string') out.user = req.metadata.user_id;
  const effort = effortOfThinking(req.thinking);
  if (effort) out.reasoning_effort = effort;
  return out;
}
