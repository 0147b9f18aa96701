/**
 * How a RoutePolicy system prompt is written into a client's request, in the client's own format (each protocol's
 * `operations.ts` applies it to its bodies with these helpers). Modes: `prepend` puts the policy's text before the
 * client's system prompt, `append` after it, `replace` drops the client's. Text is joined with a blank line into
 * the client's first system message, or becomes the system prompt when there is none. A prompt without a system
 * part (legacy completions, an Ollama raw prompt) gets the text before it in every mode; token-id prompts cannot
 * carry it and are refused (400).
 */
import type { RouteConfig } from '../../../../shared/src/proxyconfig/index.js';
import { errors } from '../../errors.js';

/** A route's system prompt: its text and mode. */
export type SystemPrompt = NonNullable<RouteConfig['systemPrompt']>;

const SEP = '\n\n';

/** Joins `text` into string content, before or after it (empty content becomes `text`). */
export function joinedText(content: string | undefined, text: string, before: boolean): string {
  const own = content ?? '';
  if (own === '') return text;
  return before ? `${text}${SEP}${own}` : `${own}${SEP}${text}`;
}

/** Joins `text` into a list of parts as a text part of its own, before or after them. */
export function joinedParts<P>(parts: readonly P[], part: P, before: boolean): P[] {
  return before ? [part, ...parts] : [...parts, part];
}

/** What a chat message format must provide for the system prompt to be written into it. */
export interface ChatMessageFormat<M> {
  isSystem(m: M): boolean;
  /** A system message holding `text` alone. */
  system(text: string): M;
  /** `m` with `text` joined into its content, before or after it. */
  join(m: M, text: string, before: boolean): M;
}

/** The messages with the system prompt applied (a new list; the client's messages are not changed). */
export function chatMessagesWith<M>(messages: readonly M[], p: SystemPrompt, f: ChatMessageFormat<M>): M[] {
  if (p.mode === 'replace') return [f.system(p.text), ...messages.filter((m) => !f.isSystem(m))];
  const first = messages.findIndex((m) => f.isSystem(m));
  if (first < 0) return [f.system(p.text), ...messages];
  const out = [...messages];
  out[first] = f.join(messages[first] as M, p.text, p.mode === 'prepend');
  return out;
}

/** `text` put before a prompt that has no system part (a string or a list of strings). */
export function textBeforePrompt(prompt: string, text: string): string {
  return `${text}${SEP}${prompt}`;
}

/** The 400 for a prompt of token ids, which cannot carry the route's system prompt. */
export function tokenPromptError() {
  return errors.invalid(
    'prompt: a prompt of token ids cannot carry the system prompt this route applies; send text.',
    'prompt',
    'system_prompt_needs_text',
  );
}
