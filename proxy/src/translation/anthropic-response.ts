/** Non-streamed answers between Anthropic Messages and the canonical OpenAI chat completion. */
import type { Usage } from '../providers/types.js';
import {
  anthropicUsage,
  finishOfStop,
  matchedStopSequence,
  stopOfFinish,
  usageFromAnthropic,
} from './anthropic-mapping.js';
import type { AnthropicBlock, AnthropicResponse } from './anthropic-types.js';
import { badUpstream, isRecord, neutralUsage, openAIUsage, parseArguments, randomId } from './common.js';
import type { ChatResponse, ToolCall } from './openai-types.js';

/** An Anthropic message as a chat completion, with the neutral usage it reports. */
export function openAIResponseFromAnthropic(
  r: AnthropicResponse,
  model: string,
): { body: ChatResponse; usage?: Usage } {
  if (!Array.isArray(r.content)) throw badUpstream('upstream message has no content array');
  let text: string | null = null;
  let reasoning: string | null = null;
  const calls: ToolCall[] = [];
  for (const b of r.content) {
    if (b.type === 'text') text = (text ?? '') + (b as { text: string }).text;
    else if (b.type === 'thinking') reasoning = (reasoning ?? '') + (b as { thinking: string }).thinking;
    else if (b.type === 'tool_use') {
      const u = b as { id: string; name: string; input: unknown };
      calls.push({ id: u.id, type: 'function', function: { name: u.name, arguments: JSON.stringify(u.input ?? {}) } });
    }
  }
  const usage = usageFromAnthropic(r.usage);
  const body: ChatResponse = {
    id: r.id ? `chatcmpl-${r.id}` : randomId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          ...(calls.length ? { tool_calls: calls } : {}),
          ...(reasoning !== null ? { reasoning_content: reasoning } : {}),
        },
        finish_reason: finishOfStop(r.stop_reason),
        logprobs: null,
      },
    ],
    ...(usage ? { usage: openAIUsage(usage) } : {}),
  };
  return usage ? { body, usage } : { body };
}

/** An Anthropic message id for a completion id (`chatcmpl-msg_x` → `msg_x`, `chatcmpl-x` → `msg_x`). */
function anthropicIdOf(id: string | undefined): string {
  if (!id) return randomId('msg_');
  const bare = id.replace(/^chatcmpl-/, '');
  return bare.startsWith('msg_') ? bare : `msg_${bare}`;
}

/** A chat completion as an Anthropic message, with the neutral usage it reports. */
export function anthropicResponseFromOpenAI(
  r: ChatResponse,
  model: string,
): { body: AnthropicResponse; usage?: Usage } {
  const choice = r.choices?.[0];
  if (!choice || !isRecord(choice.message)) throw badUpstream('upstream answer has no choices');
  const m = choice.message;
  const content: AnthropicBlock[] = [];
  if (typeof m.reasoning_content === 'string' && m.reasoning_content !== '')
    content.push({ type: 'thinking', thinking: m.reasoning_content, signature: '' });
  if (typeof m.content === 'string' && m.content !== '') content.push({ type: 'text', text: m.content });
  for (const [j, c] of (m.tool_calls ?? []).entries()) {
    const input = parseArguments(c.function.arguments, `choices[0].message.tool_calls[${j}].function.arguments`, true);
    content.push({ type: 'tool_use', id: c.id || randomId('toolu_'), name: c.function.name, input });
  }
  const usage = neutralUsage(r.usage);
  const stopSequence = matchedStopSequence(choice);
  const stopReason = m.tool_calls?.length ? 'tool_use' : stopOfFinish(choice.finish_reason, stopSequence);
  const body: AnthropicResponse = {
    id: anthropicIdOf(r.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? stopSequence : null,
    usage: anthropicUsage(usage),
  };
  return usage ? { body, usage } : { body };
}
