/** The OpenAI surface's operations as the client side sees them: validation, stream and usage flags, prompt text, system prompts. */
import type { ChatMessage, ChatRequest } from '../canonical/chat.js';
import type { OperationOf } from '../catalog.js';
import {
  type ChatMessageFormat,
  chatMessagesWith,
  joinedParts,
  joinedText,
  textBeforePrompt,
  tokenPromptError,
} from '../common/system-prompt.js';
import type { ClientOperation } from '../types.js';
import type { ResponsesRequest } from './responses-schemas.js';
import { type CompletionRequest, OPENAI_REQUESTS } from './schemas.js';

const wantsUsage = (b: { stream_options?: { include_usage?: boolean | undefined } | null | undefined }) =>
  b.stream_options?.include_usage === true;

/** Canonical text of chat messages (roles and text parts), for prefix-aware scheduling. */
export function chatPromptText(messages: ReadonlyArray<{ role: string; content?: unknown }>): string {
  let out = '';
  for (const m of messages) {
    const c = m.content;
    const text =
      typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c
              .map((p: unknown) =>
                typeof p === 'object' && p !== null && 'text' in p && typeof p.text === 'string' ? p.text : '',
              )
              .join('')
          : '';
    out += `<|${m.role}|>${text}`;
  }
  return out;
}

/** Canonical text of a Responses request: its instructions, then its input messages (other items carry none). */
function responsesPromptText(b: ResponsesRequest): string {
  const messages = typeof b.input === 'string' ? [{ role: 'user', content: b.input }] : b.input;
  const text = chatPromptText(
    messages
      .filter((m) => (m.type ?? 'message') === 'message')
      .map((m) => ({ role: m.role ?? 'user', content: m.content })),
  );
  return b.instructions ? `<|system|>${b.instructions}${text}` : text;
}

/** System and developer messages hold OpenAI chat's system prompt; text parts stay parts. */
const chatFormat: ChatMessageFormat<ChatMessage> = {
  isSystem: (m) => m.role === 'system' || m.role === 'developer',
  system: (text) => ({ role: 'system', content: text }),
  join: (m, text, before) => ({
    ...m,
    content: Array.isArray(m.content)
      ? joinedParts(m.content, { type: 'text', text }, before)
      : joinedText(typeof m.content === 'string' ? m.content : undefined, text, before),
  }),
};

/** A legacy prompt has no system part: the text goes before it (each prompt of a list); token ids are refused. */
function promptWith(prompt: CompletionRequest['prompt'], text: string): CompletionRequest['prompt'] {
  if (typeof prompt === 'string') return textBeforePrompt(prompt, text);
  if (prompt === null || prompt === undefined) return text;
  const strings: string[] = [];
  for (const p of prompt) {
    if (typeof p !== 'string') throw tokenPromptError();
    strings.push(textBeforePrompt(p, text));
  }
  return strings;
}

/** The OpenAI surface's operations. */
export const OPENAI_OPERATIONS: { [O in OperationOf<'openai'>]: ClientOperation<O> } = {
  chat: {
    schema: OPENAI_REQUESTS.chat,
    stream: (b) => b.stream === true,
    clientWantsUsage: wantsUsage,
    prompt: (b) => chatPromptText(b.messages),
    withSystemPrompt: (b: ChatRequest, p) => ({ ...b, messages: chatMessagesWith(b.messages, p, chatFormat) }),
  },
  completions: {
    schema: OPENAI_REQUESTS.completions,
    stream: (b) => b.stream === true,
    clientWantsUsage: wantsUsage,
    prompt: (b) => (typeof b.prompt === 'string' ? b.prompt : undefined),
    withSystemPrompt: (b, p) => ({ ...b, prompt: promptWith(b.prompt, p.text) }),
  },
  embeddings: {
    schema: OPENAI_REQUESTS.embeddings,
    stream: () => false,
    clientWantsUsage: () => false,
    prompt: () => undefined,
    withSystemPrompt: (b) => b,
  },
  // The route's system prompt goes into `instructions` (the Responses API's system message).
  responses: {
    schema: OPENAI_REQUESTS.responses,
    stream: (b) => b.stream === true,
    clientWantsUsage: () => false,
    prompt: responsesPromptText,
    withSystemPrompt: (b, p) => ({
      ...b,
      instructions:
        p.mode === 'replace' ? p.text : joinedText(b.instructions ?? undefined, p.text, p.mode === 'prepend'),
    }),
  },
  // Ranking documents has no system part; the query is not a conversation prefix.
  rerank: {
    schema: OPENAI_REQUESTS.rerank,
    stream: () => false,
    clientWantsUsage: () => false,
    prompt: () => undefined,
    withSystemPrompt: (b) => b,
  },
};
