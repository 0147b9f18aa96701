/**
 * A RoutePolicy system prompt applied to a client's request, in the client's own format, before anything else reads
 * the body: so every upstream protocol receives it through the usual translation (or pass-through), token
 * estimates, limits, the cache key and traces see it, and the upstream's usage counts it.
 *
 * Modes: `prepend` puts the policy's text before the client's system prompt, `append` after it, `replace` drops the
 * client's. Text is joined with a blank line into the client's first system message (OpenAI/Ollama `system` or
 * `developer` messages, Anthropic `system`, Ollama generate `system`), or becomes the system prompt when there is
 * none. A legacy completions prompt (and an Ollama raw prompt) has no system part: the text goes before the prompt
 * in every mode; token-id prompts cannot carry it and are refused (400). Embeddings have no prompt to change.
 */
import type { RouteConfig } from '../../../shared/src/proxyconfig/index.js';
import { errors } from '../errors.js';
import type { Operation } from './types.js';

type Body = Record<string, unknown>;
type SystemPrompt = NonNullable<RouteConfig['systemPrompt']>;
type Message = { role?: unknown; content?: unknown } & Record<string, unknown>;

const SEP = '\n\n';
const isSystemRole = (m: unknown) =>
  typeof m === 'object' && m !== null && ((m as Message).role === 'system' || (m as Message).role === 'developer');

/** Joins `text` into a string or text-part content, before or after it. */
function joined(content: unknown, text: string, before: boolean): unknown {
  if (Array.isArray(content)) {
    const part = { type: 'text', text };
    return before ? [part, ...content] : [...content, part];
  }
  const own = typeof content === 'string' ? content : '';
  if (own === '') return text;
  return before ? `${text}${SEP}${own}` : `${own}${SEP}${text}`;
}

function chatMessages(messages: unknown, p: SystemPrompt): unknown[] {
  const list = Array.isArray(messages) ? messages : [];
  if (p.mode === 'replace') return [{ role: 'system', content: p.text }, ...list.filter((m) => !isSystemRole(m))];
  const first = list.findIndex(isSystemRole);
  if (first < 0) return [{ role: 'system', content: p.text }, ...list];
  const m = list[first] as Message;
  const out = [...list];
  out[first] = { ...m, content: joined(m.content, p.text, p.mode === 'prepend') };
  return out;
}

function beforePrompt(prompt: unknown, text: string): unknown {
  if (typeof prompt === 'string') return `${text}${SEP}${prompt}`;
  if (prompt === null || prompt === undefined) return text;
  if (Array.isArray(prompt) && prompt.every((p) => typeof p === 'string'))
    return prompt.map((p) => `${text}${SEP}${p}`);
  throw errors.invalid(
    'prompt: a prompt of token ids cannot carry the system prompt this route applies; send text.',
    'prompt',
    'system_prompt_needs_text',
  );
}

/** `body` with the system prompt applied (a new object; `body` is not changed). */
export function withSystemPrompt(operation: Operation, body: Body, p: SystemPrompt): Body {
  switch (operation) {
    case 'chat':
    case 'ollama_chat':
      return { ...body, messages: chatMessages(body.messages, p) };
    case 'messages':
    case 'count_tokens': {
      const own = body.system;
      const empty = own === undefined || own === '' || (Array.isArray(own) && own.length === 0);
      return { ...body, system: p.mode === 'replace' || empty ? p.text : joined(own, p.text, p.mode === 'prepend') };
    }
    case 'ollama_generate': {
      if (body.raw === true) return { ...body, prompt: beforePrompt(body.prompt, p.text) };
      const own = typeof body.system === 'string' ? body.system : '';
      return { ...body, system: p.mode === 'replace' ? p.text : joined(own, p.text, p.mode === 'prepend') };
    }
    case 'completions':
      return { ...body, prompt: beforePrompt(body.prompt, p.text) };
    case 'embeddings':
    case 'ollama_embed':
      return body;
  }
}
