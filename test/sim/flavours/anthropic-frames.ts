/**
 * Anthropic Messages wire format. Streams are SSE with an `event: <type>` line before each `data:` line:
 * `message_start` (empty content, `output_tokens: 1`), `content_block_start`, `ping`, `content_block_delta`
 * (`text_delta`, or `input_json_delta` fragments for `tool_use`), `content_block_stop`, `message_delta`
 * (`stop_reason`, `usage.output_tokens`), `message_stop`. With extended thinking, a `thinking` block comes first
 * (`thinking_delta`s, then one `signature_delta` before its `content_block_stop`).
 */
import type { OutputPlan } from '../output.js';
import type { FramePlan } from '../stream.js';

/** One Anthropic answer. */
export interface AnthropicAnswer {
  id: string;
  model: string;
  plan: OutputPlan;
  promptTokens: number;
  outputTokens: number;
  /** The signature of the answer's thinking block (opaque to clients, checked when it comes back). */
  signature: string;
}

function event(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

function stopReason(plan: OutputPlan): string {
  if (plan.kind === 'tools') return 'tool_use';
  if (plan.stopSequence !== null) return 'stop_sequence';
  return plan.finish === 'length' ? 'max_tokens' : 'end_turn';
}

function stopSequence(plan: OutputPlan): string | null {
  return plan.kind === 'text' ? plan.stopSequence : null;
}

function usage(a: AnthropicAnswer, output: number): string {
  return `{"input_tokens":${a.promptTokens},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":${output}}`;
}

const start = (index: number, block: string) =>
  event('content_block_start', `{"type":"content_block_start","index":${index},"content_block":${block}}`);
const stop = (index: number) => event('content_block_stop', `{"type":"content_block_stop","index":${index}}`);
const delta = (index: number, d: string) =>
  event('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${d}}`);

/** The `error` event of the `midStreamError` fault. */
export const OVERLOADED_EVENT = event(
  'error',
  '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
);

/** One content block of an answer: its opening JSON, its deltas, and the events that close it. */
interface Block {
  open: string;
  deltas: string[];
  /** Sent before `content_block_stop` (a thinking block's `signature_delta`). */
  close?: (index: number) => string;
}

/** The blocks of an answer in order: thinking (a reasoning answer), then text or one tool_use block per call. */
function blocksOf(a: AnthropicAnswer): Block[] {
  const plan = a.plan;
  const out: Block[] = [];
  if (plan.reasoning.length > 0)
    out.push({
      open: '{"type":"thinking","thinking":"","signature":""}',
      deltas: plan.reasoning.map((p) => `{"type":"thinking_delta","thinking":${JSON.stringify(p)}}`),
      close: (i) => delta(i, `{"type":"signature_delta","signature":${JSON.stringify(a.signature)}}`),
    });
  if (plan.kind === 'text')
    out.push({
      open: '{"type":"text","text":""}',
      deltas: plan.pieces.map((p) => `{"type":"text_delta","text":${JSON.stringify(p)}}`),
    });
  else
    for (const c of plan.calls)
      out.push({
        open: `{"type":"tool_use","id":"${c.id}","name":${JSON.stringify(c.name)},"input":{}}`,
        deltas: ['""', ...c.fragments.map((f) => JSON.stringify(f))].map(
          (f) => `{"type":"input_json_delta","partial_json":${f}}`,
        ),
      });
  return out;
}

/** SSE frames of a streamed message. */
export function anthropicFrames(a: AnthropicAnswer): FramePlan {
  const plan = a.plan;
  const blocks = blocksOf(a);
  // Each token step is one delta; a block's opening (and the previous block's closing) rides on its first delta.
  const steps: string[] = [];
  let pending = '';
  blocks.forEach((b, k) => {
    if (k > 0) pending += (blocks[k - 1]?.close?.(k - 1) ?? '') + stop(k - 1) + start(k, b.open);
    for (const d of b.deltas) {
      steps.push(pending + delta(k, d));
      pending = '';
    }
  });
  const last = blocks.length - 1;
  return {
    steps: steps.length,
    head() {
      const message =
        `{"id":"${a.id}","type":"message","role":"assistant","model":${JSON.stringify(a.model)},"content":[],` +
        `"stop_reason":null,"stop_sequence":null,"usage":${usage(a, 1)}}`;
      return (
        event('message_start', `{"type":"message_start","message":${message}}`) +
        start(0, blocks[0]?.open ?? '{"type":"text","text":""}') +
        event('ping', '{"type": "ping"}')
      );
    },
    step: (i) => steps[i] ?? '',
    tail() {
      const d = `{"stop_reason":"${stopReason(plan)}","stop_sequence":${JSON.stringify(stopSequence(plan))}}`;
      return (
        pending +
        (blocks[last]?.close?.(last) ?? '') +
        stop(last) +
        event('message_delta', `{"type":"message_delta","delta":${d},"usage":{"output_tokens":${a.outputTokens}}}`) +
        event('message_stop', '{"type":"message_stop"}')
      );
    },
    error: () => OVERLOADED_EVENT,
  };
}

/** Body of a non-streaming message. */
export function anthropicBody(a: AnthropicAnswer): string {
  const plan = a.plan;
  const thinking = plan.reasoning.length
    ? [{ type: 'thinking', thinking: plan.reasoning.join(''), signature: a.signature }]
    : [];
  const content = [
    ...thinking,
    ...(plan.kind === 'text'
      ? [{ type: 'text', text: plan.pieces.join('') }]
      : plan.calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args }))),
  ];
  const head = JSON.stringify({
    id: a.id,
    type: 'message',
    role: 'assistant',
    model: a.model,
    content,
    stop_reason: stopReason(plan),
    stop_sequence: stopSequence(plan),
  });
  return `${head.slice(0, -1)},"usage":${usage(a, a.outputTokens)}}`;
}
