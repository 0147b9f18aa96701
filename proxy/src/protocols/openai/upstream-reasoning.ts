/**
 * The canonical request's reasoning as each OpenAI-protocol server takes it. vLLM reads earlier turns' reasoning as
 * `reasoning` (the efforts other clients translate to are low, medium and high, which it accepts); llama.cpp
 * reads `reasoning_content` in earlier turns and passes `reasoning_effort` to templates that use it; both turn a
 * thinking template off with `chat_template_kwargs.enable_thinking: false`, which is what effort `none` becomes.
 * api.openai.com takes every effort and no reasoning text in earlier turns (its reasoning stays hidden); other
 * OpenAI-compatible servers get `reasoning_effort` and `reasoning_content` as they are. Anthropic signatures go to
 * none of them.
 */
import type { Provider } from '../../../../shared/src/api/v1alpha1/index.js';
import type { ChatMessage, ChatRequest } from '../canonical/chat.js';
import { withoutReasoning } from '../canonical/reasoning.js';

function turn(m: ChatMessage, provider: Provider): ChatMessage {
  if (m.reasoning_content == null && m.reasoning_signature === undefined) return m;
  const rest = withoutReasoning(m);
  if (provider === 'openai' || !m.reasoning_content) return rest;
  return provider === 'vllm'
    ? { ...rest, reasoning: m.reasoning_content }
    : { ...rest, reasoning_content: m.reasoning_content };
}

/** `chat` with its reasoning effort and earlier turns' reasoning written for a server of `provider`. */
export function reasoningForOpenAI(chat: ChatRequest, provider: Provider): ChatRequest {
  const out: ChatRequest = { ...chat, messages: chat.messages.map((m) => turn(m, provider)) };
  const effort = chat.reasoning_effort;
  if (effort == null || (provider !== 'vllm' && provider !== 'llamacpp')) return out;
  if (effort === 'none') {
    const { reasoning_effort: _e, ...rest } = out;
    const kwargs = typeof chat.chat_template_kwargs === 'object' ? chat.chat_template_kwargs : {};
    return { ...rest, chat_template_kwargs: { ...kwargs, enable_thinking: false } };
  }
  return out;
}
