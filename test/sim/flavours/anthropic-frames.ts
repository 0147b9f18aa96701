/**
 * Anthropic Messages wire format. Streams are SSE with an `event: <type>` line before each `data:` line:
 * `message_start` (empty content, `output_tokens: 1`), `content_block_start`, `ping`, `content_block_delta`
 * (`text_delta`, or `input_json_delta` fragments for `tool_use`), `content_block_stop`, `message_delta`
 * (`stop_reason`, `usage.output_tokens`), `message_stop`.
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

/** SSE frames of a streamed message. */
export function anthropicFrames(a: AnthropicAnswer): FramePlan {
  const plan = a.plan;
  const toolBlock = (i: number) => {
    const c = (plan as Extract<OutputPlan, { kind: 'tools' }>).calls[i]!;
    return `{"type":"tool_use","id":"${c.id}","name":${JSON.stringify(c.name)},"input":{}}`;
  };
  const steps: string[] | null = plan.kind === 'tools' ? [] : null;
  let blocks = 1;
  if (plan.kind === 'tools' && steps) {
    blocks = plan.calls.length;
    plan.calls.forEach((c, i) => {
      const intro = i > 0 ? stop(i - 1) + start(i, toolBlock(i)) : '';
      steps.push(intro + delta(i, '{"type":"input_json_delta","partial_json":""}'));
      for (const f of c.fragments)
        steps.push(delta(i, `{"type":"input_json_delta","partial_json":${JSON.stringify(f)}}`));
    });
  }
  return {
    steps: steps ? steps.length : (plan as Extract<OutputPlan, { kind: 'text' }>).pieces.length,
    head() {
      const message =
        `{"id":"${a.id}","type":"message","role":"assistant","model":${JSON.stringify(a.model)},"content":[],` +
        `"stop_reason":null,"stop_sequence":null,"usage":${usage(a, 1)}}`;
      const first = plan.kind === 'tools' ? toolBlock(0) : '{"type":"text","text":""}';
      return (
        event('message_start', `{"type":"message_start","message":${message}}`) +
        start(0, first) +
        event('ping', '{"type": "ping"}')
      );
    },
    step(i) {
      if (steps) return steps[i]!;
      const text = (plan as Extract<OutputPlan, { kind: 'text' }>).pieces[i]!;
      return delta(0, `{"type":"text_delta","text":${JSON.stringify(text)}}`);
    },
    tail() {
      const d = `{"stop_reason":"${stopReason(plan)}","stop_sequence":${JSON.stringify(stopSequence(plan))}}`;
      return (
        stop(blocks - 1) +
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
  const content =
    plan.kind === 'text'
      ? [{ type: 'text', text: plan.pieces.join('') }]
      : plan.calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args }));
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
