/**
 * Canonical chat request → Anthropic Messages request (an OpenAI or Ollama client served by an Anthropic upstream).
 * Fields Anthropic cannot express are refused with a 400 naming the field; hints with no effect on the answer
 * (message `name`, image `detail`, tool `strict`, `store`, `service_tier`, `metadata`) are ignored.
 *
 * `reasoning_effort` becomes extended thinking with the effort's budget (below `max_tokens`; without a client limit
 * `max_tokens` is the budget plus the default). It is dropped — reported, not refused — where Anthropic would refuse
 * thinking: with a temperature other than 1, `top_k`, `top_p` below 0.95, a forced tool, or no room for the
 * smallest budget. Earlier turns' reasoning goes back as a thinking block only with its Anthropic signature.
 */
import type { ChatMessage, ChatRequest, ChatTool, ContentPart, ToolChoice } from '../canonical/chat.js';
import { budgetOfEffort, MIN_THINKING_BUDGET, turnReasoning } from '../canonical/reasoning.js';
import { isRecord, parseArguments, refuseUnknownFields, refuseUnlessDefault, untranslatable } from '../common/json.js';
import { anthropicSourceOf } from './images.js';
import type {
  AnthropicBlock,
  AnthropicMessage,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  MessagesRequest,
} from './schemas.js';

/** `max_tokens` sent to Anthropic (which requires it) when the OpenAI request sets no limit. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

const HANDLED = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'stream',
  'stream_options',
  'user',
  'n',
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'response_format',
  'seed',
  'store',
  'service_tier',
  'metadata',
  'reasoning_effort',
]);

function textOf(content: ChatMessage['content'], param: string): AnthropicTextBlock[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.map((p, j) => {
    if (p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
    if (p.type === 'refusal' && typeof p.refusal === 'string') return { type: 'text', text: p.refusal };
    throw untranslatable(`${param}[${j}].type`, `content part '${p.type}' is not allowed in this message`);
  });
}

function userBlocks(parts: readonly ContentPart[], param: string): AnthropicBlock[] {
  return parts.map((p, j): AnthropicBlock => {
    if (p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
    if (p.type === 'image_url' && isRecord(p.image_url) && typeof p.image_url.url === 'string')
      return { type: 'image', source: anthropicSourceOf(p.image_url.url, `${param}[${j}].image_url.url`) };
    throw untranslatable(`${param}[${j}].type`, `content part '${p.type}' cannot be sent to an Anthropic upstream`);
  });
}

function assistantMessage(m: ChatMessage, i: number): AnthropicMessage {
  const text = textOf(m.content, `messages[${i}].content`);
  const thought = turnReasoning(m);
  const blocks: AnthropicBlock[] = [];
  if (thought?.signature) blocks.push({ type: 'thinking', thinking: thought.text, signature: thought.signature });
  blocks.push(...text);
  for (const [j, c] of (m.tool_calls ?? []).entries()) {
    if ((c.type !== undefined && c.type !== 'function') || !c.function)
      throw untranslatable(`messages[${i}].tool_calls[${j}].type`, 'only function tool calls can be translated');
    const input = parseArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`);
    blocks.push({ type: 'tool_use', id: c.id, name: c.function.name, input });
  }
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text' && !m.tool_calls)
    return { role: 'assistant', content: text[0]?.text ?? '' };
  return { role: 'assistant', content: blocks.length ? blocks : '' };
}

/** Messages and system blocks; consecutive tool results share one user turn, as Anthropic requires. */
function convertMessages(messages: readonly ChatMessage[]): {
  system: AnthropicTextBlock[];
  messages: AnthropicMessage[];
} {
  const system: AnthropicTextBlock[] = [];
  const out: AnthropicMessage[] = [];
  let toolTurn: AnthropicBlock[] | undefined;
  messages.forEach((m, i) => {
    const afterTools = toolTurn;
    if (m.role !== 'tool') toolTurn = undefined;
    if (m.role === 'system' || m.role === 'developer') system.push(...textOf(m.content, `messages[${i}].content`));
    else if (m.role === 'user') {
      const c = m.content;
      // Parts right after tool results join their user turn; a plain string stays its own (Anthropic merges them).
      if (afterTools && Array.isArray(c)) afterTools.push(...userBlocks(c, `messages[${i}].content`));
      else
        out.push({
          role: 'user',
          content: typeof c === 'string' || c == null ? (c ?? '') : userBlocks(c, `messages[${i}].content`),
        });
    } else if (m.role === 'assistant') out.push(assistantMessage(m, i));
    else if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') throw untranslatable(`messages[${i}].tool_call_id`, 'is required');
      const content = typeof m.content === 'string' ? m.content : textOf(m.content, `messages[${i}].content`);
      const block: AnthropicBlock = { type: 'tool_result', tool_use_id: m.tool_call_id, content };
      if (toolTurn) toolTurn.push(block);
      else {
        toolTurn = [block];
        out.push({ role: 'user', content: toolTurn });
      }
    } else throw untranslatable(`messages[${i}].role`, `role '${m.role}' cannot be sent to an Anthropic upstream`);
  });
  return { system, messages: out };
}

function convertTools(tools: readonly ChatTool[]): AnthropicTool[] {
  return tools.map((t, i) => {
    const f = t.function;
    if (t.type !== 'function' || !f)
      throw untranslatable(`tools[${i}].type`, `tool type '${t.type}' cannot be translated`);
    return {
      name: f.name,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      input_schema: isRecord(f.parameters) ? f.parameters : { type: 'object', properties: {} },
    };
  });
}

function convertToolChoice(c: ToolChoice | undefined, parallel: unknown): AnthropicToolChoice | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (c === undefined) return parallel === false ? { type: 'auto', ...noParallel } : undefined;
  if (c === 'none') return { type: 'none' };
  if (c === 'auto') return { type: 'auto', ...noParallel };
  if (c === 'required') return { type: 'any', ...noParallel };
  if (c.type === 'function' && isRecord(c.function) && typeof c.function.name === 'string')
    return { type: 'tool', name: c.function.name, ...noParallel };
  throw untranslatable('tool_choice', 'must be auto, none, required or a named function');
}

/** Why Anthropic would refuse thinking with `out`'s sampling and tool choice, if it would. */
function thinkingConflict(out: MessagesRequest): boolean {
  const forced = out.tool_choice?.type === 'any' || out.tool_choice?.type === 'tool';
  return (
    forced ||
    (out.temperature !== undefined && out.temperature !== 1) ||
    out.top_k !== undefined ||
    (out.top_p !== undefined && out.top_p < 0.95)
  );
}

/** Writes `req.reasoning_effort` into `out` as extended thinking; names it in `dropped` where it cannot be. */
function applyThinking(req: ChatRequest, out: MessagesRequest, dropped: string[]): void {
  const effort = req.reasoning_effort;
  const wanted = effort ? budgetOfEffort(effort) : undefined;
  if (wanted === undefined) return;
  if (thinkingConflict(out)) {
    dropped.push('reasoning_effort');
    return;
  }
  const unlimited = req.max_completion_tokens == null && req.max_tokens == null;
  if (unlimited) out.max_tokens = wanted + DEFAULT_ANTHROPIC_MAX_TOKENS;
  const budget = Math.min(wanted, out.max_tokens - 1);
  if (budget < MIN_THINKING_BUDGET) {
    dropped.push('reasoning_effort');
    return;
  }
  out.thinking = { type: 'enabled', budget_tokens: budget };
}

/**
 * Translates `req`; `model` is the upstream model name. Throws a 400 GatewayError for untranslatable fields; names
 * the fields it leaves out in `dropped`.
 */
export function anthropicRequestFromChat(req: ChatRequest, model: string, dropped: string[] = []): MessagesRequest {
  refuseUnknownFields(req, HANDLED, 'is not supported by Anthropic upstreams');
  refuseUnlessDefault(req, 'n', 'Anthropic returns one choice per request', [1]);
  refuseUnlessDefault(req, 'logprobs', 'Anthropic does not return log probabilities', [false]);
  refuseUnlessDefault(req, 'top_logprobs', 'Anthropic does not return log probabilities', [0]);
  refuseUnlessDefault(req, 'presence_penalty', 'Anthropic has no presence penalty', [0]);
  refuseUnlessDefault(req, 'frequency_penalty', 'Anthropic has no frequency penalty', [0]);
  refuseUnlessDefault(req, 'seed', 'Anthropic does not support seeded sampling');
  if (req.response_format && req.response_format.type !== 'text')
    throw untranslatable(
      'response_format',
      `'${String(req.response_format.type)}' is not supported by Anthropic upstreams`,
    );
  if (typeof req.temperature === 'number' && req.temperature > 1)
    throw untranslatable('temperature', 'Anthropic accepts temperatures from 0 to 1');
  const { system, messages } = convertMessages(req.messages);
  const out: MessagesRequest = {
    model,
    messages,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
  };
  const [first] = system;
  if (system.length === 1 && first) out.system = first.text;
  else if (system.length > 1) out.system = system;
  if (req.tools?.length) out.tools = convertTools(req.tools);
  const choice = convertToolChoice(req.tool_choice, req.parallel_tool_calls);
  if (choice) out.tool_choice = choice;
  if (req.stop != null) out.stop_sequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (typeof req.top_k === 'number') out.top_k = req.top_k;
  if (req.stream) out.stream = true;
  if (typeof req.user === 'string') out.metadata = { user_id: req.user };
  applyThinking(req, out, dropped);
  return out;
}
