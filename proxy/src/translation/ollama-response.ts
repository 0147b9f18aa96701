/** Non-streamed answers between Ollama chat/generate and the canonical chat completion; shared mapping helpers. */
import type { Usage } from '../providers/types.js';
import { badUpstream, isRecord, neutralUsage, openAIUsage, parseArguments, randomId } from './common.js';
import type { OllamaAnswer, OllamaToolCall } from './ollama-types.js';
import type { ChatResponse, FinishReason, ToolCall } from './openai-types.js';

/** Neutral usage from an Ollama final object (`prompt_eval_count`, `eval_count`). */
export function usageFromOllama(a: OllamaAnswer): Usage | undefined {
  if (a.prompt_eval_count === undefined && a.eval_count === undefined) return undefined;
  return { inputTokens: a.prompt_eval_count ?? 0, outputTokens: a.eval_count ?? 0 };
}

/** OpenAI finish reason for an Ollama `done_reason`. */
export function finishOfDone(reason: string | undefined, sawTools: boolean): FinishReason {
  if (reason === 'length') return 'length';
  return sawTools ? 'tool_calls' : 'stop';
}

/** Ollama `done_reason` for an OpenAI finish reason. */
export function doneOfFinish(finish: FinishReason | null | undefined): string {
  return finish === 'length' ? 'length' : 'stop';
}

/** Canonical tool calls from Ollama ones (which carry no ids). */
export function toolCallsFromOllama(calls: OllamaToolCall[] | undefined): ToolCall[] {
  return (calls ?? []).map((c) => ({
    id: c.id ?? randomId('call_'),
    type: 'function',
    function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) },
  }));
}

/** An Ollama chat (`message`) or generate (`response`) answer as a chat completion. */
export function openAIResponseFromOllama(a: OllamaAnswer, model: string): { body: ChatResponse; usage?: Usage } {
  if (typeof a.error === 'string') throw badUpstream(`upstream error: ${a.error}`, 'upstream_error');
  const m = isRecord(a.message) ? a.message : {};
  const calls = toolCallsFromOllama(m.tool_calls);
  const content = typeof a.response === 'string' ? a.response : (m.content ?? '');
  const thinking = m.thinking ?? a.thinking;
  const usage = usageFromOllama(a);
  const body: ChatResponse = {
    id: randomId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length && content === '' ? null : content,
          ...(calls.length ? { tool_calls: calls } : {}),
          ...(thinking ? { reasoning_content: thinking } : {}),
        },
        finish_reason: finishOfDone(a.done_reason, calls.length > 0),
        logprobs: null,
      },
    ],
    ...(usage ? { usage: openAIUsage(usage) } : {}),
  };
  return usage ? { body, usage } : { body };
}

/** A chat completion as an Ollama chat or generate answer. */
export function ollamaAnswerFromOpenAI(r: ChatResponse, model: string, kind: 'chat' | 'generate'): OllamaAnswer {
  const choice = r.choices?.[0];
  if (!choice || !isRecord(choice.message)) throw badUpstream('upstream answer has no choices');
  const m = choice.message;
  const usage = neutralUsage(r.usage);
  const head: OllamaAnswer = { model, created_at: new Date().toISOString() };
  if (kind === 'generate') head.response = m.content ?? '';
  else {
    const tool_calls = (m.tool_calls ?? []).map((c, j) => ({
      function: {
        name: c.function.name,
        arguments: parseArguments(c.function.arguments, `choices[0].message.tool_calls[${j}].function.arguments`, true),
      },
    }));
    head.message = {
      role: 'assistant',
      content: m.content ?? '',
      ...(m.reasoning_content ? { thinking: m.reasoning_content } : {}),
      ...(tool_calls.length ? { tool_calls } : {}),
    };
  }
  return {
    ...head,
    done: true,
    done_reason: doneOfFinish(choice.finish_reason),
    ...(usage ? { prompt_eval_count: usage.inputTokens, eval_count: usage.outputTokens } : {}),
  };
}
