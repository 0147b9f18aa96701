/**
 * Well-formed answers of each upstream protocol, as a list of events the hostile classes then break: OpenAI
 * (vLLM, llama.cpp, OpenAI) chat / completions / embeddings / rerank, Anthropic messages / count_tokens, Ollama chat /
 * generate / embed / embeddings, and the metadata GETs health checks use. Usage numbers and tool-call arguments are
 * raw JSON text so a class can make them absurd or cut them. An answer may start with reasoning (OpenAI-protocol
 * `reasoning` / `reasoning_content`, an Anthropic signed thinking block, Ollama `thinking`).
 */

export type Protocol = 'openai' | 'anthropic' | 'ollama';
/** Which upstream operation a request is. */
export type Operation =
  | 'chat'
  | 'completion'
  | 'embeddings'
  | 'rerank'
  | 'messages'
  | 'count_tokens'
  | 'ollama_chat'
  | 'ollama_generate'
  | 'ollama_embed'
  | 'ollama_embeddings'
  | 'meta';
/** How an answer's events are framed. */
export type Framing = 'json' | 'sse' | 'ndjson';

/** One upstream request as the hostile server received it. */
export interface UpstreamCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when absent or not JSON). */
  body: unknown;
  raw: string;
}

/** One event of an answer: an SSE event (optional name + data), an NDJSON line, or the whole JSON body. */
export interface Ev {
  event?: string;
  data: string;
}

/** A complete answer before it is framed into bytes. */
export interface Answer {
  protocol: Protocol;
  operation: Operation;
  stream: boolean;
  status: number;
  contentType: string;
  headers: [string, string][];
  framing: Framing;
  events: Ev[];
  /** Index of the first event of the clean end (finish, usage, `[DONE]`, `message_stop`, `done:true`). */
  endAt: number;
}

/** What the answer says: text pieces or tool calls, why it stopped, and usage as raw JSON tokens. */
export interface AnswerSpec {
  pieces: string[];
  /** Reasoning before the answer, in the server's own field (OpenAI protocol: vLLM `reasoning` or `reasoning_content`). */
  reasoning?: { field: 'reasoning' | 'reasoning_content'; pieces: string[] };
  tools?: { id: string; name: string; args: string[] }[];
  finish: 'stop' | 'length';
  usage: { input: string; output: string };
}

const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream';
const NDJSON_TYPE = 'application/x-ndjson';

/** The protocol and operation a request path belongs to. */
export function classify(method: string, path: string): { protocol: Protocol; operation: Operation } {
  const p = path.replace(/\/+$/, '');
  if (method !== 'POST') return { protocol: p.startsWith('/api/') ? 'ollama' : 'openai', operation: 'meta' };
  if (p.endsWith('/messages/count_tokens')) return { protocol: 'anthropic', operation: 'count_tokens' };
  if (p.endsWith('/messages')) return { protocol: 'anthropic', operation: 'messages' };
  if (p === '/api/chat') return { protocol: 'ollama', operation: 'ollama_chat' };
  if (p === '/api/generate') return { protocol: 'ollama', operation: 'ollama_generate' };
  if (p === '/api/embed') return { protocol: 'ollama', operation: 'ollama_embed' };
  if (p === '/api/embeddings') return { protocol: 'ollama', operation: 'ollama_embeddings' };
  if (p.endsWith('/chat/completions')) return { protocol: 'openai', operation: 'chat' };
  if (p.endsWith('/completions')) return { protocol: 'openai', operation: 'completion' };
  if (p.endsWith('/embeddings')) return { protocol: 'openai', operation: 'embeddings' };
  if (p.endsWith('/rerank')) return { protocol: 'openai', operation: 'rerank' };
  return { protocol: 'openai', operation: 'meta' };
}

const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Whether the request asks for a stream (Ollama streams unless `stream:false`). */
export function wantsStream(protocol: Protocol, operation: Operation, body: unknown): boolean {
  if (['embeddings', 'rerank', 'count_tokens', 'ollama_embed', 'ollama_embeddings', 'meta'].includes(operation))
    return false;
  const s = rec(body).stream;
  return protocol === 'ollama' ? s !== false : s === true;
}

/** Number of embedding inputs or rerank documents the request carries (at least 1). */
function inputCount(body: unknown): number {
  const input = rec(body).input ?? rec(body).prompt ?? rec(body).documents;
  return Array.isArray(input) ? Math.max(1, Math.min(input.length, 64)) : 1;
}

const modelOf = (body: unknown): string => {
  const m = rec(body).model;
  return typeof m === 'string' ? m.slice(0, 200) : 'hostile';
};

const vector = (i: number) => `[${[0.1, -0.2, 0.3, 0.4].map((x) => (x * (i + 1)).toFixed(3)).join(',')}]`;
const str = (s: string) => JSON.stringify(s);
const NS = ',"total_duration":1000,"load_duration":10,"prompt_eval_duration":100,"eval_duration":100';

function openaiAnswer(call: UpstreamCall, op: Operation, stream: boolean, s: AnswerSpec): Answer {
  const model = str(modelOf(call.body));
  const u = s.usage;
  const sum = Number(u.input) + Number(u.output);
  const usage = `{"prompt_tokens":${u.input},"completion_tokens":${u.output},"total_tokens":${Number.isSafeInteger(sum) ? sum : u.output}}`;
  const base = { protocol: 'openai' as const, operation: op, stream, status: 200, headers: [] };
  if (op === 'embeddings' || op === 'rerank' || op === 'meta') {
    const n = inputCount(call.body);
    const each = (f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(',');
    const data =
      op === 'meta'
        ? `{"object":"list","data":[{"id":${model},"object":"model","created":1,"owned_by":"hostile"}]}`
        : op === 'rerank'
          ? `{"id":"rerank-hostile","model":${model},"usage":{"prompt_tokens":${u.input},"total_tokens":${u.input}},"results":[${each((i) => `{"index":${i},"relevance_score":${(0.9 - i * 0.01).toFixed(2)}}`)}]}`
          : `{"object":"list","data":[${each((i) => `{"object":"embedding","index":${i},"embedding":${vector(i)}}`)}],"model":${model},"usage":{"prompt_tokens":${u.input},"total_tokens":${u.input}}}`;
    return { ...base, contentType: JSON_TYPE, framing: 'json', events: [{ data }], endAt: 1 };
  }
  const chat = op === 'chat';
  const finish = s.tools && chat ? 'tool_calls' : s.finish;
  const text = s.pieces.join('');
  if (!stream) {
    const thought = chat && s.reasoning ? `,"${s.reasoning.field}":${str(s.reasoning.pieces.join(''))}` : '';
    const choice = chat
      ? `{"index":0,"message":{"role":"assistant"${thought},"content":${s.tools ? 'null' : str(text)}${
          s.tools
            ? `,"tool_calls":[${s.tools.map((t) => `{"id":${str(t.id)},"type":"function","function":{"name":${str(t.name)},"arguments":${str(t.args.join(''))}}}`).join(',')}]`
            : ''
        }},"logprobs":null,"finish_reason":"${finish}"}`
      : `{"index":0,"text":${str(text)},"logprobs":null,"finish_reason":"${finish}"}`;
    const data = `{"id":"cmpl-hostile","object":"${chat ? 'chat.completion' : 'text_completion'}","created":1,"model":${model},"choices":[${choice}],"usage":${usage}}`;
    return { ...base, contentType: JSON_TYPE, framing: 'json', events: [{ data }], endAt: 1 };
  }
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const chunk = (choices: string, extra = '') =>
    `{"id":"cmpl-hostile","object":"${object}","created":1,"model":${model},"choices":[${choices}]${extra}}`;
  const choice = (body: string, f: string | null) =>
    `{"index":0,${body},"logprobs":null,"finish_reason":${f ? `"${f}"` : 'null'}}`;
  const events: Ev[] = [];
  if (chat) events.push({ data: chunk(choice('"delta":{"role":"assistant","content":""}', null)) });
  if (chat && s.reasoning)
    for (const p of s.reasoning.pieces)
      events.push({ data: chunk(choice(`"delta":{"${s.reasoning.field}":${str(p)}}`, null)) });
  if (s.tools && chat)
    s.tools.forEach((t, index) => {
      events.push({
        data: chunk(
          choice(
            `"delta":{"tool_calls":[{"index":${index},"id":${str(t.id)},"type":"function","function":{"name":${str(t.name)},"arguments":""}}]}`,
            null,
          ),
        ),
      });
      for (const f of t.args)
        events.push({
          data: chunk(choice(`"delta":{"tool_calls":[{"index":${index},"function":{"arguments":${str(f)}}}]}`, null)),
        });
    });
  else
    for (const p of s.pieces)
      events.push({ data: chunk(choice(chat ? `"delta":{"content":${str(p)}}` : `"text":${str(p)}`, null)) });
  const endAt = events.length;
  events.push({ data: chunk(choice(chat ? '"delta":{}' : '"text":""', finish)) });
  if (rec(rec(call.body).stream_options).include_usage === true) events.push({ data: chunk('', `,"usage":${usage}`) });
  events.push({ data: '[DONE]' });
  return { ...base, contentType: SSE_TYPE, framing: 'sse', events, endAt };
}

function anthropicAnswer(call: UpstreamCall, op: Operation, stream: boolean, s: AnswerSpec): Answer {
  const model = str(modelOf(call.body));
  const u = s.usage;
  const base = {
    protocol: 'anthropic' as const,
    operation: op,
    stream,
    status: 200,
    headers: [['request-id', 'req_hostile']] as [string, string][],
  };
  if (op === 'count_tokens' || op === 'meta') {
    const data =
      op === 'meta'
        ? `{"data":[{"type":"model","id":${model},"display_name":"hostile","created_at":"2025-01-01T00:00:00Z"}],"has_more":false,"first_id":${model},"last_id":${model}}`
        : `{"input_tokens":${u.input}}`;
    return { ...base, contentType: JSON_TYPE, framing: 'json', events: [{ data }], endAt: 1 };
  }
  const stop = s.tools ? 'tool_use' : s.finish === 'length' ? 'max_tokens' : 'end_turn';
  const thinking = s.reasoning?.pieces;
  if (!stream) {
    const thought = thinking
      ? [`{"type":"thinking","thinking":${str(thinking.join(''))},"signature":"c2lnbmF0dXJl"}`]
      : [];
    const content = s.tools
      ? s.tools.map((t) => `{"type":"tool_use","id":${str(t.id)},"name":${str(t.name)},"input":${t.args.join('')}}`)
      : [`{"type":"text","text":${str(s.pieces.join(''))}}`];
    const data = `{"id":"msg_hostile","type":"message","role":"assistant","model":${model},"content":[${[...thought, ...content].join(',')}],"stop_reason":"${stop}","stop_sequence":null,"usage":{"input_tokens":${u.input},"output_tokens":${u.output}}}`;
    return { ...base, contentType: JSON_TYPE, framing: 'json', events: [{ data }], endAt: 1 };
  }
  const ev = (event: string, data: string): Ev => ({ event, data: `{"type":"${event}",${data}}` });
  const events: Ev[] = [
    ev(
      'message_start',
      `"message":{"id":"msg_hostile","type":"message","role":"assistant","model":${model},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":${u.input},"output_tokens":1}}`,
    ),
  ];
  // A thinking block first (its deltas, then its signature), the answer's blocks after it.
  const off = thinking ? 1 : 0;
  if (thinking) {
    events.push(
      ev('content_block_start', '"index":0,"content_block":{"type":"thinking","thinking":"","signature":""}'),
    );
    for (const p of thinking)
      events.push(ev('content_block_delta', `"index":0,"delta":{"type":"thinking_delta","thinking":${str(p)}}`));
    events.push(ev('content_block_delta', '"index":0,"delta":{"type":"signature_delta","signature":"c2lnbmF0dXJl"}'));
    events.push(ev('content_block_stop', '"index":0'));
  }
  if (s.tools)
    s.tools.forEach((t, i) => {
      const index = i + off;
      events.push(
        ev(
          'content_block_start',
          `"index":${index},"content_block":{"type":"tool_use","id":${str(t.id)},"name":${str(t.name)},"input":{}}`,
        ),
      );
      for (const f of t.args)
        events.push(
          ev('content_block_delta', `"index":${index},"delta":{"type":"input_json_delta","partial_json":${str(f)}}`),
        );
      events.push(ev('content_block_stop', `"index":${index}`));
    });
  else {
    events.push(ev('content_block_start', `"index":${off},"content_block":{"type":"text","text":""}`));
    events.push({ event: 'ping', data: '{"type": "ping"}' });
    for (const p of s.pieces)
      events.push(ev('content_block_delta', `"index":${off},"delta":{"type":"text_delta","text":${str(p)}}`));
    events.push(ev('content_block_stop', `"index":${off}`));
  }
  const endAt = events.length;
  events.push(
    ev('message_delta', `"delta":{"stop_reason":"${stop}","stop_sequence":null},"usage":{"output_tokens":${u.output}}`),
  );
  events.push({ event: 'message_stop', data: '{"type":"message_stop"}' });
  return { ...base, contentType: SSE_TYPE, framing: 'sse', events, endAt };
}

function ollamaAnswer(call: UpstreamCall, op: Operation, stream: boolean, s: AnswerSpec): Answer {
  const model = str(modelOf(call.body));
  const u = s.usage;
  const base = { protocol: 'ollama' as const, operation: op, stream, status: 200, headers: [] };
  const json = (data: string): Answer => ({
    ...base,
    contentType: JSON_TYPE,
    framing: 'json',
    events: [{ data }],
    endAt: 1,
  });
  if (op === 'meta') {
    if (call.path.startsWith('/api/tags'))
      return json(`{"models":[{"name":${model},"model":${model},"size":1,"digest":"0","details":{}}]}`);
    return json('{"version":"0.9.0"}');
  }
  if (op === 'ollama_embeddings') return json(`{"embedding":${vector(0)}}`);
  if (op === 'ollama_embed')
    return json(
      `{"model":${model},"embeddings":[${Array.from({ length: inputCount(call.body) }, (_, i) => vector(i)).join(',')}]${NS},"prompt_eval_count":${u.input}}`,
    );
  const chat = op === 'ollama_chat';
  const at = '"created_at":"2025-01-01T00:00:00Z"';
  const reason = s.finish === 'length' ? 'length' : 'stop';
  const calls = s.tools
    ? `,"tool_calls":[${s.tools.map((t) => `{"function":{"name":${str(t.name)},"arguments":${t.args.join('')}}}`).join(',')}]`
    : '';
  const piece = (text: string, withCalls = '', thought = '') => {
    const t = thought ? `,"thinking":${str(thought)}` : '';
    return chat
      ? `"message":{"role":"assistant","content":${str(text)}${t}${withCalls}}`
      : `"response":${str(text)}${t}`;
  };
  const thinking = s.reasoning?.pieces ?? [];
  const final = (text: string, withCalls: string, thought = '') =>
    `{"model":${model},${at},${piece(text, withCalls, thought)},"done":true,"done_reason":"${reason}"${chat ? '' : ',"context":[1,2,3]'}${NS},"prompt_eval_count":${u.input},"eval_count":${u.output}}`;
  if (!stream) return json(final(s.tools ? '' : s.pieces.join(''), calls, thinking.join('')));
  const events: Ev[] = [];
  for (const p of thinking) events.push({ data: `{"model":${model},${at},${piece('', '', p)},"done":false}` });
  if (s.tools && chat) events.push({ data: `{"model":${model},${at},${piece('', calls)},"done":false}` });
  else for (const p of s.pieces) events.push({ data: `{"model":${model},${at},${piece(p)},"done":false}` });
  const endAt = events.length;
  events.push({ data: final('', '') });
  return { ...base, contentType: NDJSON_TYPE, framing: 'ndjson', events, endAt };
}

/** The well-formed answer of `protocol` to `call`, saying what `spec` says. */
export function buildAnswer(call: UpstreamCall, spec: AnswerSpec): Answer {
  const { protocol, operation } = classify(call.method, call.path);
  const stream = wantsStream(protocol, operation, call.body);
  if (protocol === 'anthropic') return anthropicAnswer(call, operation, stream, spec);
  if (protocol === 'ollama') return ollamaAnswer(call, operation, stream, spec);
  return openaiAnswer(call, operation, stream, spec);
}

/** An error body in the protocol's own shape. */
export function errorBody(protocol: Protocol, status: number, message: string): string {
  if (protocol === 'anthropic') {
    const type = status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : 'api_error';
    return `{"type":"error","error":{"type":"${type}","message":${str(message)}}}`;
  }
  if (protocol === 'ollama') return `{"error":${str(message)}}`;
  return `{"error":{"message":${str(message)},"type":"server_error","param":null,"code":${status}}}`;
}

/** An error event as a stream of the protocol carries it (OpenAI `data: {"error"}`, Anthropic `event: error`). */
export function errorEvent(protocol: Protocol, status: number, message: string): Ev {
  if (protocol === 'anthropic') return { event: 'error', data: errorBody(protocol, status, message) };
  return { data: errorBody(protocol, status, message) };
}
