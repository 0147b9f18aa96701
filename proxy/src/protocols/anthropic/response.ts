/** Non-streamed answers between Anthropic Messages and the canonical chat completion, in both directions. */
import { type ChatResponse, oneChoiceResponse } from '../canonical/chat.js';
import { openAIUsage, type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { badUpstream, parseArguments, randomId } from '../common/json.js';
import { anthropicUsage, finishOfStop, matchedStopSequence, stopOfFinish, usageFromAnthropic } from './mapping.js';
import { type AnthropicBlock, knownBlock, type MessageAnswer } from './schemas.js';

/** An Anthropic message (from an Anthropic upstream) as a chat completion, with the neutral usage it reports. */
export function chatResponseFromAnthropic(r: MessageAnswer, model: string): { body: ChatResponse; usage?: Usage } {
  let text: string | null = null;
  let reasoning: string | null = null;
  const signatures: string[] = [];
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const b of r.content) {
    const t = knownBlock(b, 'text');
    const thinking = b.type === 'thinking' && typeof b.thinking === 'string' ? b.thinking : undefined;
    const use = knownBlock(b, 'tool_use');
    if (t) text = (text ?? '') + t.text;
    else if (thinking !== undefined) {
      reasoning = (reasoning ?? '') + thinking;
      signatures.push(typeof b.signature === 'string' ? b.signature : '');
    } else if (use)
      calls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input) } });
  }
  const usage = usageFromAnthropic(r.usage);
  const body = oneChoiceResponse(
    { id: r.id ? `chatcmpl-${r.id}` : randomId('chatcmpl-'), model },
    // A signature signs one block's text: joined blocks keep none.
    {
      content: text,
      toolCalls: calls,
      reasoning,
      reasoningSignature: signatures.length === 1 ? signatures[0] : undefined,
    },
    finishOfStop(r.stop_reason),
    usage && openAIUsage(usage),
  );
  return usage ? { body, usage } : { body };
}

/** An Anthropic message id for a completion id (`chatcmpl-msg_x` → `msg_x`, `chatcmpl-x` → `msg_x`). */
function anthropicIdOf(id: string | null | undefined): string {
  if (!id) return randomId('msg_');
  const bare = id.replace(/^chatcmpl-/, '');
  return bare.startsWith('msg_') ? bare : `msg_${bare}`;
}

/** A chat completion as an Anthropic message (for an Anthropic client). */
export function anthropicAnswerFromChat(r: ChatResponse, model: string) {
  const choice = r.choices[0];
  if (!choice) throw badUpstream('upstream answer has no choices');
  const m = choice.message;
  const content: AnthropicBlock[] = [];
  if (typeof m.reasoning_content === 'string' && m.reasoning_content !== '')
    content.push({ type: 'thinking', thinking: m.reasoning_content, signature: '' });
  if (typeof m.content === 'string' && m.content !== '') content.push({ type: 'text', text: m.content });
  for (const [j, c] of (m.tool_calls ?? []).entries()) {
    const input = parseArguments(c.function.arguments, `choices[0].message.tool_calls[${j}].function.arguments`, true);
    content.push({ type: 'tool_use', id: c.id || randomId('toolu_'), name: c.function.name, input });
  }
  const stopSequence = matchedStopSequence(choice);
  const stopReason = m.tool_calls?.length ? 'tool_use' : stopOfFinish(choice.finish_reason, stopSequence);
  return {
    id: anthropicIdOf(r.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? stopSequence : null,
    usage: anthropicUsage(usageFromOpenAI(r.usage)),
  };
}
