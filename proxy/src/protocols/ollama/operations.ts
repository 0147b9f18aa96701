/** The Ollama surface's operations as the client side sees them: validation, stream flag, prompt text, system prompts. */
import type { OperationOf } from '../catalog.js';
import { type ChatMessageFormat, chatMessagesWith, joinedText, textBeforePrompt } from '../common/system-prompt.js';
import { chatPromptText } from '../openai/operations.js';
import type { ClientOperation } from '../types.js';
import { OLLAMA_REQUESTS, type OllamaMessage } from './schemas.js';

/** Streams unless the client says `stream: false`, as on Ollama. */
const streams = (b: { stream?: boolean | undefined }) => b.stream !== false;

/** Ollama's system messages hold its chat system prompt. */
const chatFormat: ChatMessageFormat<OllamaMessage> = {
  isSystem: (m) => m.role === 'system',
  system: (text) => ({ role: 'system', content: text }),
  join: (m, text, before) => ({ ...m, content: joinedText(m.content, text, before) }),
};

/** The Ollama surface's operations. */
export const OLLAMA_OPERATIONS: { [O in OperationOf<'ollama'>]: ClientOperation<O> } = {
  ollama_chat: {
    schema: OLLAMA_REQUESTS.ollama_chat,
    stream: streams,
    clientWantsUsage: () => true,
    prompt: (b) => chatPromptText(b.messages),
    withSystemPrompt: (b, p) => ({ ...b, messages: chatMessagesWith(b.messages, p, chatFormat) }),
  },
  ollama_generate: {
    schema: OLLAMA_REQUESTS.ollama_generate,
    stream: streams,
    clientWantsUsage: () => true,
    prompt: (b) => (typeof b.prompt === 'string' ? `${b.system ?? ''}${b.prompt}` : undefined),
    // A raw prompt has no system part: the text goes before it in every mode.
    withSystemPrompt: (b, p) =>
      b.raw === true
        ? { ...b, prompt: b.prompt === undefined ? p.text : textBeforePrompt(b.prompt, p.text) }
        : { ...b, system: p.mode === 'replace' ? p.text : joinedText(b.system, p.text, p.mode === 'prepend') },
  },
  ollama_embed: {
    schema: OLLAMA_REQUESTS.ollama_embed,
    stream: () => false,
    clientWantsUsage: () => false,
    prompt: () => undefined,
    withSystemPrompt: (b) => b,
  },
};
