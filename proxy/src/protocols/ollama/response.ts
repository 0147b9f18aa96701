/** Non-streamed answers between Ollama chat/generate and the canonical chat completion; shared mapping helpers. */
import { type ChatResponse, type FinishReason, oneChoiceResponse } from '../canonical/chat.js';
import { count, openAIUsage, type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { badUpstream, parseArguments, randomId } from '../common/json.js';
import type { OllamaAnswer, OllamaToolCall } from './schemas.js';

/** Neutral usage from an Ollama final object (`prompt_eval_count`, `eval_count`). */
export function usageFromOllama(a: Readonly<Record<string, unknown>>): Usage | undefined {
  if (a.prompt_eval_count === undefined && a.eval_count === undefined) return undefined;
  return { inputTokens: count(a.prompt_eval_count), outputTokens: count(a.eval_count) };
}

/** OpenAI finish reason for an Ollama `done_reason`. */
export function finishOfDone(reason: string | undefined, sawTools: boolean): FinishReason {
  if (reason === 'length') return 'length';
  return sawTools ? 'tool_calls' : 'stop';
}

/** Ollama `done_reason` for an OpenAI finish reason. */
export function doneOfFinish(finish: string | null | undefined): string {
  return finish === 'length' ? 'length' : 'stop';
}

/** A canonical tool call from an Ollama one (which carries no id). */
export type CanonicalToolCall = {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
};

/** Canonical tool calls from Ollama ones (which carry no ids). */
export function toolCallsFromOllama(calls: readonly OllamaToolCall[] | null | undefined): CanonicalToolCall[] {
  return (calls ?? []).map((c) => ({
    id: c.id ?? randomId('call_'),
    type: 'function',
    function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) },
  }));
}

/** An Ollama chat (`message`) or generate (`response`) answer as a chat completion. */
export function chatResponseFromOllama(a: OllamaAnswer, model: string): { body: ChatResponse; usage?: Usage } {
  if (typeof a.error === 'string') throw badUpstream(`upstream error: ${a.error}`, 'upstream_error');
  const m = a.message ?? {};
  const calls = toolCallsFromOllama(m.tool_calls);
  const content = a.response ?? m.content ?? '';
  const thinking = m.thinking ?? a.thinking;
  const usage = usageFromOllama(a);
  const body = oneChoiceResponse(
    { id: randomId('chatcmpl-'), model },
    { content: calls.length && content === '' ? null : content, toolCalls: calls, reasoning: thinking },
    finishOfDone(a.done_reason, calls.length > 0),
    usage && openAIUsage(usage),
  );
  return usage ? { body, usage } : { body };
}

/** A chat completion as an Ollama chat or generate answer (for an Ollama client). */
export function ollamaAnswerFromChat(r: ChatResponse, model: string, kind: 'chat' | 'generate') {
  const choice = r.choices[0];
  if (!choice) throw badUpstream('upstream answer has no choices');
  const m = choice.message;
  const usage = usageFromOpenAI(r.usage);
  const created_at = new Date().toISOString();
  const tail = {
    done: true,
    done_reason: doneOfFinish(choice.finish_reason),
    ...(usage ? { prompt_eval_count: usage.inputTokens, eval_count: usage.outputTokens } : {}),
  };
  if (kind === 'generate') return { model, created_at, response: m.content ?? '', ...tail };
  const tool_calls = (m.tool_calls ?? []).map((c, j) => ({
    function: {
      name: c.function.name,
      arguments: parseArguments(c.function.arguments, `choices[0].message.tool_calls[${j}].function.arguments`, true),
    },
  }));
  const message = {
    role: 'assistant',
    content: m.content ?? '',
    ...(m.reasoning_content ? { thinking: m.reasoning_content } : {}),
    ...(tool_calls.length ? { tool_calls } : {}),
  };
  return { model, created_at, message, ...tail };
}
