/**
 * Responses API answers built by the gateway (for requests served through chat): the `response` object with the
 * request's settings echoed, output items made from a canonical answer (a `reasoning` item, a `message` with one
 * `output_text` part, one `function_call` item per tool call), and usage in Responses terms. Also reads the usage
 * of answers from upstreams that serve the API themselves.
 */
import type { AnswerParts, FinishReason } from '../canonical/chat.js';
import { count, type Usage } from '../canonical/usage.js';
import { isRecord, type Json, randomId } from '../common/json.js';
import type { ResponsesRequest } from './responses-schemas.js';

/** Neutral usage from a Responses `usage` object (`input_tokens` include cached ones); undefined when there is none. */
export function usageFromResponses(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const details = u.input_tokens_details;
  const cached = isRecord(details) ? details.cached_tokens : undefined;
  return {
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    ...(typeof cached === 'number' ? { cachedInputTokens: cached } : {}),
  };
}

/** A Responses `usage` object from neutral usage (reasoning tokens are not reported apart by chat upstreams). */
export function responsesUsage(u: Usage) {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0, cache_write_tokens: 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

/** A function tool as a response echoes it (`parameters` and `strict` are always present there). */
function echoedTool(t: NonNullable<ResponsesRequest['tools']>[number]): Json {
  if (t.type !== 'function') return t;
  return { ...t, parameters: t.parameters ?? null, strict: t.strict ?? null };
}

/** The ids of one answer's items, made once so a stream's events and its final object agree. */
export interface ResponseIds {
  response: string;
  createdAt: number;
}

/** Fresh ids for one answer. */
export function responseIds(): ResponseIds {
  return { response: randomId('resp_'), createdAt: Math.floor(Date.now() / 1000) };
}

/** The `response` object of `body` without its output: status, the request's settings, the public model name. */
export function responseShell(body: ResponsesRequest, model: string, ids: ResponseIds): Json {
  return {
    id: ids.response,
    object: 'response',
    created_at: ids.createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: false,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, ...(isRecord(body.text) ? body.text : {}) },
    tool_choice: body.tool_choice ?? 'auto',
    tools: (body.tools ?? []).map(echoedTool),
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    metadata: isRecord(body.metadata) ? body.metadata : {},
    ...(typeof body.user === 'string' ? { user: body.user } : {}),
  };
}

/** The final fields of a response: completed, or incomplete when the output limit cut it. */
export function responseEnd(finish: FinishReason | undefined, usage: Usage | undefined): Json {
  const cut = finish === 'length' || finish === 'content_filter';
  return {
    status: cut ? 'incomplete' : 'completed',
    completed_at: cut ? null : Math.floor(Date.now() / 1000),
    incomplete_details: cut ? { reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    ...(usage ? { usage: responsesUsage(usage) } : {}),
  };
}

/** An output `message` item holding `text`. */
export function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): Json {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'in_progress' ? [] : [outputText(text)],
  };
}

/** An `output_text` content part. */
export function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/**
 * A `reasoning` output item holding `text` as reasoning text; an Anthropic signature of it rides in
 * `encrypted_content`, which clients send back as they got it.
 */
export function reasoningItem(
  id: string,
  text: string,
  status: 'in_progress' | 'completed',
  signature?: string | undefined,
): Json {
  return {
    id,
    type: 'reasoning',
    summary: [],
    content: status === 'in_progress' ? [] : [{ type: 'reasoning_text', text }],
    ...(signature ? { encrypted_content: signature } : {}),
    status,
  };
}

/** A `function_call` output item. */
export function functionCallItem(
  id: string,
  call: { id: string; name: string; arguments: string },
  status: 'in_progress' | 'completed',
): Json {
  return { id, type: 'function_call', status, call_id: call.id, name: call.name, arguments: call.arguments };
}

/** The output items of a canonical answer, in Responses order: reasoning, message, function calls. */
export function outputItems(parts: AnswerParts): Json[] {
  const out: Json[] = [];
  if (parts.reasoning) out.push(reasoningItem(randomId('rs_'), parts.reasoning, 'completed', parts.reasoningSignature));
  if (parts.content) out.push(messageItem(randomId('msg_'), parts.content, 'completed'));
  for (const c of parts.toolCalls)
    out.push(
      functionCallItem(
        randomId('fc_'),
        { id: c.id ?? randomId('call_'), name: c.function.name, arguments: c.function.arguments },
        'completed',
      ),
    );
  return out;
}
