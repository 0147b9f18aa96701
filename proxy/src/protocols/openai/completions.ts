/**
 * OpenAI legacy completions clients (`POST /v1/completions`) of upstreams without that endpoint (Anthropic, Ollama):
 * the prompt becomes one user message of a canonical chat request (so the upstream's chat template applies), and
 * chat answers come back as `text_completion` objects and chunks. What has no chat equivalent is refused with a 400:
 * several prompts or token-array prompts, `echo`, `suffix`, `best_of` > 1 and `logprobs`.
 */
import { type ChatChunk, type ChatRequest, type ChatResponse, chatRequest } from '../canonical/chat.js';
import type { ChatClientHalf } from '../canonical/compose.js';
import type { ChunkEncoder } from '../canonical/stream.js';
import { randomId, untranslatable, validationError } from '../common/json.js';
import type { CompletionRequest } from './schemas.js';

function promptText(prompt: CompletionRequest['prompt']): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  if (Array.isArray(prompt) && prompt.every((p) => typeof p === 'string'))
    throw untranslatable('prompt', 'several prompts in one request can only be sent to OpenAI-protocol upstreams');
  throw untranslatable('prompt', 'token-array prompts can only be sent to OpenAI-protocol upstreams');
}

const unset = (v: unknown) => v === undefined || v === null;

function toChat(body: CompletionRequest): ChatRequest {
  if (body.echo === true) throw untranslatable('echo', 'echoing the prompt needs an OpenAI-protocol upstream');
  if (!unset(body.suffix) && body.suffix !== '')
    throw untranslatable('suffix', 'insertion (suffix) needs an OpenAI-protocol upstream');
  if (!unset(body.best_of) && body.best_of !== 1 && body.best_of !== 0)
    throw untranslatable('best_of', 'best_of needs an OpenAI-protocol upstream');
  if (!unset(body.logprobs) && body.logprobs !== 0)
    throw untranslatable('logprobs', 'log probabilities need an OpenAI-protocol upstream');
  // The prompt is the conversation: a chat field carrying another one would replace it unchecked.
  if (body.messages !== undefined)
    throw untranslatable('messages', 'is a chat field; a completion request carries its text in prompt');
  // Every other completion field is a chat field too and passes to the upstream half, which reads it as one: the
  // completion schema leaves them unchecked, so the chat request is checked whole (a 400 naming the first bad field).
  const { prompt, echo: _e, suffix: _s, best_of: _b, logprobs: _l, ...rest } = body;
  const chat = { ...rest, messages: [{ role: 'user' as const, content: promptText(prompt) }] };
  const checked = chatRequest.safeParse(chat);
  if (!checked.success) throw validationError(checked.error);
  return chat;
}

const completionId = (chatId: string | null | undefined) =>
  chatId ? `cmpl-${chatId.replace(/^chatcmpl-/, '')}` : randomId('cmpl-');

function fromChat(res: ChatResponse, model: string): string {
  return JSON.stringify({
    id: completionId(res.id),
    object: 'text_completion',
    created: res.created ?? Math.floor(Date.now() / 1000),
    model,
    choices: res.choices.map((c, i) => ({
      index: c.index ?? i,
      text: typeof c.message.content === 'string' ? c.message.content : '',
      logprobs: null,
      finish_reason: c.finish_reason ?? null,
    })),
    ...(res.usage ? { usage: res.usage } : {}),
  });
}

/** Canonical chunks → `text_completion` SSE chunks; the usage chunk only when the client asked for it. */
class CompletionChunkEncoder implements ChunkEncoder {
  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  private event(chunk: ChatChunk, choices: unknown[], usage?: unknown): string {
    const c = {
      id: completionId(chunk.id),
      object: 'text_completion',
      created: chunk.created,
      model: this.model,
      choices,
      ...(this.includeUsage ? { usage: usage ?? null } : {}),
    };
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  encode(chunk: ChatChunk): string {
    if (chunk.choices.length === 0) return chunk.usage && this.includeUsage ? this.event(chunk, [], chunk.usage) : '';
    const choices = chunk.choices
      .map((c, i) => ({
        index: c.index ?? i,
        text: typeof c.delta?.content === 'string' ? c.delta.content : '',
        logprobs: null,
        finish_reason: c.finish_reason ?? null,
      }))
      .filter((c) => c.text !== '' || c.finish_reason !== null);
    return choices.length ? this.event(chunk, choices) : '';
  }

  finish(): string {
    return 'data: [DONE]\n\n';
  }
}

/** OpenAI completions clients served through canonical chat. */
export const openAICompletionsClient: ChatClientHalf<'completions'> = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => toChat(ctx.body),
  fromChat: (res, ctx) => fromChat(res, ctx.publicModel),
  encoder: (ctx) => new CompletionChunkEncoder(ctx.publicModel, ctx.clientWantsUsage),
};
