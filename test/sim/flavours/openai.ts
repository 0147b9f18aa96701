/** OpenAI-compatible endpoints (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`). */

import type { Exchange } from '../exchange.js';
import { admitGeneration } from '../generation.js';
import type { GenerationSpec, ToolChoice, ToolSpec } from '../output.js';
import { rerank } from '../rerank.js';
import { runStream, runUnary } from '../stream.js';
import { randomHex, randomId } from '../tokens.js';
import { llamacppModelName } from './llamacpp-resources.js';
import type { OpenAIDialect } from './openai-dialect.js';
import { type OpenAIAnswer, openaiBody, openaiFrames } from './openai-frames.js';
import { embeddings, models, resolveModel } from './openai-resources.js';
import { responses } from './openai-responses.js';
import { chatPrompt, isOptionalPositiveInt, isRecord, type Json, stopList } from './prompt.js';
import type { Route } from './types.js';

/** Routes of an OpenAI-compatible server speaking `d`. */
export function openaiRoutes(d: OpenAIDialect): [string, Route][] {
  const error = d.error;
  return [
    ['POST /v1/chat/completions', { handler: (ex) => generate(ex, d, 'chat'), inference: true, error }],
    ['POST /v1/completions', { handler: (ex) => generate(ex, d, 'completion'), inference: true, error }],
    ['POST /v1/embeddings', { handler: (ex) => embeddings(ex, d), inference: true, error }],
    ...rerankRoutes(d),
    ...responsesRoutes(d),
    ['GET /v1/models', { handler: (ex) => models(ex, d), public: d.name === 'llamacpp', error }],
  ];
}

/** Rerank on vLLM (`/rerank`, `/v1/rerank`, `/v2/rerank`) and llama.cpp (`/rerank`, `/reranking`, `/v1/…`). */
function rerankRoutes(d: OpenAIDialect): [string, Route][] {
  const paths =
    d.name === 'vllm'
      ? ['/rerank', '/v1/rerank', '/v2/rerank']
      : d.name === 'llamacpp'
        ? ['/rerank', '/reranking', '/v1/rerank', '/v1/reranking']
        : [];
  return paths.map((p) => [`POST ${p}`, { handler: (ex) => rerank(ex, d), inference: true, error: d.error }]);
}

/** The Responses API, on the servers that serve it themselves (vLLM, OpenAI). */
function responsesRoutes(d: OpenAIDialect): [string, Route][] {
  if (d.name !== 'vllm' && d.name !== 'openai') return [];
  return [['POST /v1/responses', { handler: (ex) => responses(ex, d), inference: true, error: d.error }]];
}

function sseType(d: OpenAIDialect): string {
  return d.name === 'vllm' || d.name === 'openai' ? 'text/event-stream; charset=utf-8' : 'text/event-stream';
}

function parseTools(v: unknown): ToolSpec[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return null;
  const out: ToolSpec[] = [];
  for (const t of v) {
    if (!isRecord(t) || !isRecord(t.function) || typeof t.function.name !== 'string') return null;
    out.push({ name: t.function.name, schema: t.function.parameters ?? {} });
  }
  return out;
}

function parseToolChoice(v: unknown): ToolChoice | null {
  if (v === undefined || v === null || v === 'auto') return 'auto';
  if (v === 'none' || v === 'required') return v;
  if (isRecord(v) && isRecord(v.function) && typeof v.function.name === 'string') return { name: v.function.name };
  return null;
}

/** Validates a chat/completion body into a generation spec; null after answering 400. */
function parseGeneration(ex: Exchange, d: OpenAIDialect, b: Json, kind: 'chat' | 'completion'): GenerationSpec | null {
  let prompt: string;
  let lastFromUser = false;
  let promptCount = 1;
  if (kind === 'chat') {
    const messages = b.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      ex.error(
        400,
        messages === undefined ? "Missing required parameter: 'messages'." : "'messages' must be a non-empty array.",
        'messages',
      );
      return null;
    }
    const bad = messages.findIndex((m) => !isRecord(m) || typeof m.role !== 'string');
    if (bad >= 0) {
      ex.error(400, `Invalid value for 'messages[${bad}]': each message needs a string 'role'.`, `messages[${bad}]`);
      return null;
    }
    prompt = chatPrompt(messages, b.tools);
    lastFromUser = (messages[messages.length - 1] as Json).role === 'user';
  } else {
    const p = b.prompt;
    const prompts = typeof p === 'string' ? [p] : Array.isArray(p) && p.every((x) => typeof x === 'string') ? p : null;
    if (!prompts || prompts.length === 0) {
      ex.error(400, p === undefined ? "Missing required parameter: 'prompt'." : "Invalid type for 'prompt'.", 'prompt');
      return null;
    }
    prompt = prompts.join('\n');
    promptCount = prompts.length;
  }
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (!isOptionalPositiveInt(maxTokens)) {
    ex.error(400, `Invalid 'max_tokens': must be a positive integer, got ${JSON.stringify(maxTokens)}.`, 'max_tokens');
    return null;
  }
  const n = b.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 128) {
    ex.error(400, `Invalid 'n': must be an integer between 1 and 128.`, 'n');
    return null;
  }
  if (b.stream_options != null && b.stream !== true) {
    ex.error(400, 'Stream options can only be defined when `stream=True`.', 'stream_options');
    return null;
  }
  if (
    d.name === 'vllm' &&
    b.reasoning_effort != null &&
    !['low', 'medium', 'high'].includes(String(b.reasoning_effort))
  ) {
    ex.error(400, "Invalid 'reasoning_effort': input should be 'low', 'medium' or 'high'.", 'reasoning_effort');
    return null;
  }
  const tools = kind === 'chat' ? parseTools(b.tools) : [];
  const toolChoice = parseToolChoice(b.tool_choice);
  if (!tools || !toolChoice) {
    ex.error(400, 'Invalid tools or tool_choice.', tools ? 'tool_choice' : 'tools');
    return null;
  }
  return {
    prompt,
    maxTokens: (maxTokens as number | null | undefined) ?? undefined,
    stop: stopList(b.stop),
    tools,
    toolChoice,
    lastFromUser,
    ignoreEos: b.ignore_eos === true,
    minTokens: Number.isInteger(b.min_tokens) ? (b.min_tokens as number) : undefined,
    choices: (n as number) * promptCount,
    toolIdPrefix: d.toolIdPrefix,
    reasoning: kind === 'chat' && reasons(ex, d, b),
  };
}

/**
 * Whether a chat answer starts with reasoning: a reasoning model (vLLM's reasoning parser, a llama.cpp thinking
 * template) unless the request turns the template's thinking off (`chat_template_kwargs.enable_thinking: false`).
 * OpenAI keeps its reasoning hidden in chat.
 */
function reasons(ex: Exchange, d: OpenAIDialect, b: Json): boolean {
  if (!ex.rt.opts.reasoning || (d.name !== 'vllm' && d.name !== 'llamacpp')) return false;
  const kwargs = b.chat_template_kwargs;
  return !(isRecord(kwargs) && kwargs.enable_thinking === false);
}

async function generate(ex: Exchange, d: OpenAIDialect, kind: 'chat' | 'completion'): Promise<void> {
  const b = ex.body;
  if (!isRecord(b)) return ex.error(400, 'The request body must be a JSON object.');
  const model = resolveModel(ex, d, b.model);
  if (model === null) return;
  const spec = parseGeneration(ex, d, b, kind);
  if (!spec) return;
  const stream = b.stream === true;
  const gen = await admitGeneration(ex, spec, model, stream ? sseType(d) : null);
  if (!gen) return;
  const prefix = kind === 'chat' ? 'chatcmpl-' : 'cmpl-';
  const answer: OpenAIAnswer = {
    kind,
    id: prefix + (d.name === 'openai' ? randomId(29) : randomHex(32)),
    created: Math.floor(Date.now() / 1000),
    // llama.cpp names its model by its GGUF path whatever the request asked for.
    model: d.llamacppExtras ? llamacppModelName(ex.rt) : model,
    dialect: d,
    plans: gen.plans,
    promptTokens: gen.promptTokens,
    cachedTokens: gen.lease.cachedTokens,
    completionTokens: gen.outputTokens,
    includeUsage: stream && isRecord(b.stream_options) && b.stream_options.include_usage === true,
    reasoningInline: d.llamacppExtras && b.reasoning_format === 'none',
  };
  if (stream) await runStream(ex, gen, sseType(d), openaiFrames(answer));
  else await runUnary(ex, gen, () => openaiBody(answer));
}
