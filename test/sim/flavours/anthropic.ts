/**
 * Anthropic Messages API: `POST /v1/messages`, `POST /v1/messages/count_tokens`, `GET /v1/models`.
 * Requires `anthropic-version`; with an API key, `x-api-key`. Errors are
 * `{"type":"error","error":{"type","message"},"request_id"}` with a matching `request-id` header; overload is 529.
 */
import { randomBytes } from 'node:crypto';
import type { Exchange } from '../exchange.js';
import { admitGeneration } from '../generation.js';
import type { GenerationSpec, ToolChoice, ToolSpec } from '../output.js';
import { runStream, runUnary } from '../stream.js';
import { countTokens, randomId } from '../tokens.js';
import { type AnthropicAnswer, anthropicBody, anthropicFrames } from './anthropic-frames.js';
import { chatPrompt, contentText, isRecord, type Json } from './prompt.js';
import { type ErrorReply, type FlavourDef, jsonError, type Route } from './types.js';

const TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

function error(status: number, message?: string): ErrorReply {
  const [type, msg] = TYPES[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', 'Error'];
  const requestId = `req_01${randomId(22)}`;
  const body = { type: 'error', error: { type, message: message ?? msg }, request_id: requestId };
  return jsonError(status, body, 'application/json', { 'request-id': requestId });
}

interface Parsed {
  model: string;
  system: string;
  messages: unknown[];
  tools: ToolSpec[];
  rawTools: unknown;
}

/** Validates the fields shared by `messages` and `count_tokens`; null after answering 400/404. */
function parseCommon(ex: Exchange, b: unknown): (Parsed & { body: Json }) | null {
  if (!ex.req.headers['anthropic-version']) return fail(ex, 400, 'anthropic-version: header is required');
  if (!isRecord(b)) return fail(ex, 400, 'Request body must be a JSON object');
  if (typeof b.model !== 'string') return fail(ex, 400, 'model: Field required');
  if (!ex.rt.serves(b.model)) return fail(ex, 404, `model: ${b.model}`);
  const messages = b.messages;
  if (!Array.isArray(messages)) return fail(ex, 400, 'messages: Field required');
  if (messages.length === 0) return fail(ex, 400, 'messages: at least one message is required');
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const role = isRecord(m) ? m.role : undefined;
    if (role === 'system') {
      return fail(
        ex,
        400,
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      );
    }
    if (role !== 'user' && role !== 'assistant')
      return fail(ex, 400, `messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (!isRecord(m) || (typeof m.content !== 'string' && !Array.isArray(m.content))) {
      return fail(ex, 400, `messages.${i}.content: Field required`);
    }
  }
  const tools: ToolSpec[] = [];
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return fail(ex, 400, 'tools: Input should be a valid list');
    for (const t of b.tools) {
      if (!isRecord(t) || typeof t.name !== 'string') return fail(ex, 400, 'tools: each tool needs a name');
      if (t.input_schema !== undefined) tools.push({ name: t.name, schema: t.input_schema });
    }
  }
  const system = typeof b.system === 'string' ? b.system : contentText(b.system);
  return { body: b, model: b.model, system, messages, tools, rawTools: b.tools };
}

function fail(ex: Exchange, status: number, message: string): null {
  ex.reply(error(status, message));
  return null;
}

function toolChoice(v: unknown): ToolChoice {
  if (!isRecord(v)) return 'auto';
  if (v.type === 'any') return 'required';
  if (v.type === 'none') return 'none';
  if (v.type === 'tool' && typeof v.name === 'string') return { name: v.name };
  return 'auto';
}

/**
 * Extended thinking as the Messages API checks it: `thinking: {type: "enabled", budget_tokens}` with a budget of at
 * least 1,024 tokens below `max_tokens`, no temperature but 1, no forced tool use; thinking blocks of earlier turns
 * must carry their signature. Returns whether thinking is on, or null after answering 400.
 */
function thinkingOf(ex: Exchange, b: Json, messages: readonly unknown[]): boolean | null {
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || !Array.isArray(m.content)) continue;
    for (const [j, block] of m.content.entries())
      if (isRecord(block) && block.type === 'thinking' && (typeof block.signature !== 'string' || !block.signature))
        return fail(ex, 400, `messages.${i}.content.${j}.thinking.signature: Field required`);
  }
  const t = b.thinking;
  if (!isRecord(t) || t.type === 'disabled') return false;
  if (t.type !== 'enabled') return fail(ex, 400, "thinking.type: Input should be 'enabled' or 'disabled'");
  const budget = t.budget_tokens;
  if (!Number.isInteger(budget) || (budget as number) < 1024)
    return fail(ex, 400, 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
  if ((budget as number) >= (b.max_tokens as number))
    return fail(ex, 400, '`max_tokens` must be greater than `thinking.budget_tokens`.');
  if (b.temperature !== undefined && b.temperature !== 1)
    return fail(ex, 400, '`temperature` may only be set to 1 when thinking is enabled.');
  if (isRecord(b.tool_choice) && (b.tool_choice.type === 'any' || b.tool_choice.type === 'tool'))
    return fail(ex, 400, 'Thinking may not be enabled when tool_choice forces tool use.');
  return true;
}

async function messages(ex: Exchange): Promise<void> {
  const p = parseCommon(ex, ex.body);
  if (!p) return;
  const b = p.body;
  if (b.max_tokens === undefined) return void fail(ex, 400, 'max_tokens: Field required');
  if (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1) {
    return void fail(ex, 400, 'max_tokens: Input should be greater than or equal to 1');
  }
  const thinking = thinkingOf(ex, b, p.messages);
  if (thinking === null) return;
  const last = p.messages[p.messages.length - 1] as Json;
  const onlyToolResults =
    Array.isArray(last.content) && last.content.every((c) => isRecord(c) && c.type === 'tool_result');
  const spec: GenerationSpec = {
    prompt: chatPrompt(p.messages, p.rawTools, p.system),
    maxTokens: b.max_tokens as number,
    stop: Array.isArray(b.stop_sequences) ? b.stop_sequences.filter((s): s is string => typeof s === 'string') : [],
    tools: p.tools,
    toolChoice: toolChoice(b.tool_choice),
    lastFromUser: last.role === 'user' && !onlyToolResults,
    choices: 1,
    toolIdPrefix: 'toolu_01',
    reasoning: thinking && ex.rt.opts.reasoning,
  };
  const stream = b.stream === true;
  const type = 'text/event-stream; charset=utf-8';
  const gen = await admitGeneration(ex, spec, p.model, stream ? type : null);
  if (!gen) return;
  const answer: AnthropicAnswer = {
    id: `msg_01${randomId(22)}`,
    model: p.model,
    plan: gen.plans[0]!,
    promptTokens: gen.promptTokens,
    outputTokens: gen.outputTokens,
    signature: randomBytes(96).toString('base64'),
  };
  if (stream) await runStream(ex, gen, type, anthropicFrames(answer));
  else await runUnary(ex, gen, () => anthropicBody(answer));
}

function countTokensRoute(ex: Exchange): void {
  const p = parseCommon(ex, ex.body);
  if (!p) return;
  ex.json(200, { input_tokens: countTokens(chatPrompt(p.messages, p.rawTools, p.system)) });
}

function models(ex: Exchange): void {
  if (!ex.req.headers['anthropic-version']) return void fail(ex, 400, 'anthropic-version: header is required');
  const created = new Date(ex.rt.created * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const data = ex.rt.opts.models.map((id) => ({ type: 'model', id, display_name: id, created_at: created }));
  ex.json(200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
}

const routes = new Map<string, Route>([
  ['POST /v1/messages', { handler: messages, inference: true }],
  ['POST /v1/messages/count_tokens', { handler: countTokensRoute }],
  ['GET /v1/models', { handler: models }],
]);

/** The Anthropic flavour. */
export const anthropicFlavour: FlavourDef = {
  name: 'anthropic',
  routes,
  jsonType: 'application/json',
  baseHeaders: {},
  answerHeaders: () => ({ 'request-id': `req_01${randomId(22)}` }),
  earlyStreamHeaders: false,
  retryAfterMs: false,
  overloadStatus: 529,
  error,
  notFound: () => error(404, 'Not Found'),
  contextLengthError: (p, _c, limit) => error(400, `prompt is too long: ${p} tokens > ${limit} maximum`),
  authorized: (headers, key) => headers['x-api-key'] === key || headers.authorization === `Bearer ${key}`,
};
