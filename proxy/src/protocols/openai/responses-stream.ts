/**
 * Canonical chat chunks → the Responses API's typed event stream, for Responses clients served through chat:
 * `response.created`, `response.in_progress`, then per output item `response.output_item.added`, its deltas
 * (`response.reasoning_text.delta`; `response.content_part.added` and `response.output_text.delta`;
 * `response.function_call_arguments.delta`) and its closing events (`….done`, `response.output_item.done`), and
 * last `response.completed` (or `response.incomplete` when the output limit cut the answer) with the whole output
 * and usage. Every event carries its `sequence_number`; there is no `[DONE]`. One instance per request.
 */
import type { GatewayError } from '../../errors.js';
import type { ChatChunk, ChunkToolCall, FinishReason } from '../canonical/chat.js';
import type { ChunkEncoder } from '../canonical/stream.js';
import { type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { type Json, randomId } from '../common/json.js';
import {
  functionCallItem,
  messageItem,
  outputText,
  type ResponseIds,
  reasoningItem,
  responseEnd,
  responseIds,
  responseShell,
} from './responses-answer.js';
import type { ResponsesRequest } from './responses-schemas.js';

/** The text item being written (reasoning or message). */
interface OpenText {
  kind: 'reasoning' | 'message';
  index: number;
  id: string;
  text: string;
  /** Anthropic's signature of a reasoning item's text. */
  signature?: string;
}

/** A function call being written, by its chunk tool-call index. */
interface OpenCall {
  index: number;
  id: string;
  callId: string;
  name: string;
  args: string;
}

/** The Responses API's `error` event ending a stream, numbered `sequence` (the next number of the stream). */
export function responsesErrorEvent(err: GatewayError, sequence: number): string {
  const data = { type: 'error', code: err.code ?? null, message: err.message, param: err.param ?? null };
  return `event: error\ndata: ${JSON.stringify({ ...data, sequence_number: sequence })}\n\n`;
}

const FINISHES: readonly FinishReason[] = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'];

/** An upstream's finish reason; others (vLLM `abort`) read as `stop`. */
export const finishOf = (f: string): FinishReason => FINISHES.find((x) => x === f) ?? 'stop';

export class ResponsesEventEncoder implements ChunkEncoder {
  private seq = 0;
  private started = false;
  private readonly ids: ResponseIds = responseIds();
  private readonly output: Json[] = [];
  private text: OpenText | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: FinishReason | undefined;
  private usage: Usage | undefined;

  constructor(
    private readonly body: ResponsesRequest,
    private readonly model: string,
  ) {}

  private event(type: string, fields: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...fields })}\n\n`;
  }

  private shell(): Json {
    return responseShell(this.body, this.model, this.ids);
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const response = this.shell();
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private closeText(): string {
    const t = this.text;
    if (!t) return '';
    this.text = undefined;
    const at = { item_id: t.id, output_index: t.index, content_index: 0 };
    if (t.kind === 'reasoning') {
      const item = reasoningItem(t.id, t.text, 'completed', t.signature);
      this.output[t.index] = item;
      return (
        this.event('response.reasoning_text.done', { ...at, text: t.text }) +
        this.event('response.output_item.done', { output_index: t.index, item })
      );
    }
    const item = messageItem(t.id, t.text, 'completed');
    this.output[t.index] = item;
    return (
      this.event('response.output_text.done', { ...at, text: t.text, logprobs: [] }) +
      this.event('response.content_part.done', { ...at, part: outputText(t.text) }) +
      this.event('response.output_item.done', { output_index: t.index, item })
    );
  }

  private closeCalls(): string {
    let out = '';
    for (const c of this.calls.values()) {
      const item = functionCallItem(c.id, { id: c.callId, name: c.name, arguments: c.args }, 'completed');
      this.output[c.index] = item;
      out +=
        this.event('response.function_call_arguments.done', {
          item_id: c.id,
          output_index: c.index,
          name: c.name,
          arguments: c.args,
        }) + this.event('response.output_item.done', { output_index: c.index, item });
    }
    this.calls.clear();
    return out;
  }

  /** Opens a text item of `kind` (closing another one first) and returns the events that did it. */
  private openText(kind: OpenText['kind']): string {
    if (this.text?.kind === kind) return '';
    let out = this.closeText();
    const index = this.output.length;
    const id = randomId(kind === 'reasoning' ? 'rs_' : 'msg_');
    const item = kind === 'reasoning' ? reasoningItem(id, '', 'in_progress') : messageItem(id, '', 'in_progress');
    this.output.push(item);
    this.text = { kind, index, id, text: '' };
    out += this.event('response.output_item.added', { output_index: index, item });
    if (kind === 'message')
      out += this.event('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: outputText(''),
      });
    return out;
  }

  private textDelta(kind: OpenText['kind'], delta: string): string {
    let out = this.openText(kind);
    const t = this.text;
    if (!t) return out;
    t.text += delta;
    const at = { item_id: t.id, output_index: t.index, content_index: 0, delta };
    out += this.event(kind === 'reasoning' ? 'response.reasoning_text.delta' : 'response.output_text.delta', {
      ...at,
      ...(kind === 'message' ? { logprobs: [] } : {}),
    });
    return out;
  }

  private callDelta(tc: ChunkToolCall): string {
    let out = '';
    let c = this.calls.get(tc.index);
    if (!c) {
      out += this.closeText();
      c = {
        index: this.output.length,
        id: randomId('fc_'),
        callId: tc.id ?? randomId('call_'),
        name: tc.function?.name ?? '',
        args: '',
      };
      const item = functionCallItem(c.id, { id: c.callId, name: c.name, arguments: '' }, 'in_progress');
      this.output.push(item);
      this.calls.set(tc.index, c);
      out += this.event('response.output_item.added', { output_index: c.index, item });
    }
    const delta = tc.function?.arguments;
    if (delta) {
      c.args += delta;
      out += this.event('response.function_call_arguments.delta', { item_id: c.id, output_index: c.index, delta });
    }
    return out;
  }

  encode(chunk: ChatChunk): string {
    let out = this.start();
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) this.usage = usage;
    // One answer: a Responses request has no `n`.
    const choice = chunk.choices.find((c) => (c.index ?? 0) === 0);
    if (!choice) return out;
    const d = choice.delta;
    if (d?.reasoning_content) out += this.textDelta('reasoning', d.reasoning_content);
    if (d?.reasoning_signature && this.text?.kind === 'reasoning') this.text.signature = d.reasoning_signature;
    if (d?.content) out += this.textDelta('message', d.content);
    for (const tc of d?.tool_calls ?? []) out += this.callDelta(tc);
    const f = choice.finish_reason;
    if (f) this.finishReason = finishOf(f);
    return out;
  }

  errorEvent(err: GatewayError): string {
    return responsesErrorEvent(err, this.seq++);
  }

  finish(): string {
    const out = this.start() + this.closeText() + this.closeCalls();
    const end = responseEnd(this.finishReason, this.usage);
    const response = { ...this.shell(), ...end, output: this.output };
    return out + this.event(end.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
  }
}
