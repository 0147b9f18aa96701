/** The Anthropic surface's operations as the client side sees them: validation, stream flag, prompt text, system prompts. */
import type { OperationOf } from '../catalog.js';
import { joinedParts, joinedText, type SystemPrompt } from '../common/system-prompt.js';
import type { ClientOperation } from '../types.js';
import { ANTHROPIC_REQUESTS, type CountTokensRequest, knownBlock } from './schemas.js';

type System = CountTokensRequest['system'];

/** Text of a string or of the text blocks of a list. */
function textOf(c: string | ReadonlyArray<{ type: string }>): string {
  return typeof c === 'string' ? c : c.map((b) => knownBlock(b, 'text')?.text ?? '').join('');
}

/** Canonical prompt text (system, roles, text blocks) for prefix-aware scheduling. */
export function anthropicPromptText(b: CountTokensRequest): string {
  let out = b.system !== undefined ? `<|system|>${textOf(b.system)}` : '';
  for (const m of b.messages) out += `<|${m.role}|>${textOf(m.content)}`;
  return out;
}

/** The top-level `system` with the route's prompt joined in: strings stay strings, text blocks stay blocks. */
function systemWith(own: System, p: SystemPrompt): NonNullable<System> {
  const empty = own === undefined || own === '' || (Array.isArray(own) && own.length === 0);
  if (p.mode === 'replace' || empty) return p.text;
  const before = p.mode === 'prepend';
  return typeof own === 'string'
    ? joinedText(own, p.text, before)
    : joinedParts(own ?? [], { type: 'text', text: p.text }, before);
}

/** The Anthropic surface's operations. */
export const ANTHROPIC_OPERATIONS: { [O in OperationOf<'anthropic'>]: ClientOperation<O> } = {
  messages: {
    schema: ANTHROPIC_REQUESTS.messages,
    stream: (b) => b.stream === true,
    clientWantsUsage: () => true,
    prompt: anthropicPromptText,
    withSystemPrompt: (b, p) => ({ ...b, system: systemWith(b.system, p) }),
  },
  count_tokens: {
    schema: ANTHROPIC_REQUESTS.count_tokens,
    stream: () => false,
    clientWantsUsage: () => false,
    prompt: () => undefined,
    withSystemPrompt: (b, p) => ({ ...b, system: systemWith(b.system, p) }),
  },
};
