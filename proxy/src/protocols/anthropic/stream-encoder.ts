/**
 * Canonical chunks → Anthropic Messages SSE for Anthropic clients: `message_start` and `ping` first, one
 * `content_block_*` triple per text run, thinking run or tool call (argument fragments become `input_json_delta`),
 * then `message_delta` (stop reason, usage) and `message_stop`. Input tokens are unknown until the upstream's final
 * usage arrives, so `message_start` reports 0 and `message_delta` carries the full usage.
 */
import type { ChatChunk, ChunkToolCall } from '../canonical/chat.js';
import type { ChunkEncoder } from '../canonical/stream.js';
import { type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { badUpstream, randomId } from '../common/json.js';
import { anthropicUsage, matchedStopSequence, stopOfFinish } from './mapping.js';

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool'; toolIndex: number };

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export class AnthropicChunkEncoder implements ChunkEncoder {
  private started = false;
  private open: OpenBlock | undefined;
  private blocks = 0;
  private finishReason: string | null = null;
  private stopSequence: string | null = null;
  private sawTool = false;
  private finalUsage: Usage | undefined;

  constructor(private readonly model: string) {}

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: randomId('msg_'),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return event('message_start', { message }) + event('ping', {});
  }

  private close(): string {
    if (!this.open) return '';
    this.open = undefined;
    return event('content_block_stop', { index: this.blocks - 1 });
  }

  private openBlock(block: OpenBlock, content: object): string {
    const out = this.close() + event('content_block_start', { index: this.blocks, content_block: content });
    this.open = block;
    this.blocks++;
    return out;
  }

  private delta(delta: object): string {
    return event('content_block_delta', { index: this.blocks - 1, delta });
  }

  private tool(tc: ChunkToolCall): string {
    let out = '';
    const current = this.open?.kind === 'tool' ? this.open.toolIndex : undefined;
    if (current !== tc.index) {
      if (!tc.function?.name) throw badUpstream('upstream streamed arguments of a tool call it did not start');
      this.sawTool = true;
      const content = { type: 'tool_use', id: tc.id ?? randomId('toolu_'), name: tc.function.name, input: {} };
      out += this.openBlock({ kind: 'tool', toolIndex: tc.index }, content);
    }
    const args = tc.function?.arguments;
    if (args) out += this.delta({ type: 'input_json_delta', partial_json: args });
    return out;
  }

  encode(chunk: ChatChunk): string {
    let out = this.start();
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) this.finalUsage = usage;
    if (chunk.stop_sequence) this.stopSequence = chunk.stop_sequence;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta ?? {};
    if (d.reasoning_content) {
      if (this.open?.kind !== 'thinking')
        out += this.openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '' });
      out += this.delta({ type: 'thinking_delta', thinking: d.reasoning_content });
    }
    if (d.content) {
      if (this.open?.kind !== 'text') out += this.openBlock({ kind: 'text' }, { type: 'text', text: '' });
      out += this.delta({ type: 'text_delta', text: d.content });
    }
    for (const tc of d.tool_calls ?? []) out += this.tool(tc);
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      this.stopSequence ??= matchedStopSequence(choice);
    }
    return out;
  }

  finish(): string {
    const stop =
      this.sawTool && this.finishReason !== 'length' ? 'tool_use' : stopOfFinish(this.finishReason, this.stopSequence);
    const delta = { stop_reason: stop, stop_sequence: stop === 'stop_sequence' ? this.stopSequence : null };
    return (
      this.start() +
      this.close() +
      event('message_delta', { delta, usage: anthropicUsage(this.finalUsage) }) +
      event('message_stop', {})
    );
  }
}
