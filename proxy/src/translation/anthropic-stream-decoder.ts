/**
 * Anthropic Messages SSE → canonical chunks. Text deltas become `content`, thinking deltas `reasoning_content`,
 * each `tool_use` block one tool call (its `input_json_delta` fragments become incremental `function.arguments`),
 * `message_delta` the finish reason, and `message_stop` a final usage chunk. An `error` event is thrown.
 */
import { GatewayError } from '../errors.js';
import { SseSplitter } from '../http/sse.js';
import { scrubSecrets, upstreamCode } from '../providers/secrets.js';
import type { Usage } from '../providers/types.js';
import { finishOfStop, streamWithoutStart, usageFromAnthropic } from './anthropic-mapping.js';
import type { AnthropicUsage } from './anthropic-types.js';
import { badUpstream, isRecord, type Json, openAIUsage, parseStreamEvent, randomId } from './common.js';
import type { ChatChunk, ChunkDelta, FinishReason } from './openai-types.js';
import type { ChunkDecoder } from './stream.js';

const ERROR_STATUS: Record<string, number> = { overloaded_error: 529, rate_limit_error: 429, api_error: 502 };

export class AnthropicChunkDecoder implements ChunkDecoder {
  private readonly sse: SseSplitter;
  private id = randomId('chatcmpl-');
  private readonly created = Math.floor(Date.now() / 1000);
  private usageSoFar: Partial<AnthropicUsage> = {};
  /** Anthropic block index → OpenAI tool call index. */
  private readonly toolIndex = new Map<number, number>();
  private stopped = false;
  private started = false;

  constructor(
    private readonly model: string,
    private readonly scrub: (message: unknown) => string = (m) => scrubSecrets(m),
    maxEventBytes = 0,
  ) {
    this.sse = new SseSplitter(maxEventBytes);
  }

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  push(chunk: Buffer): ChatChunk[] {
    const out: ChatChunk[] = [];
    for (const ev of this.sse.push(chunk)) {
      if (this.stopped) break;
      if (ev.data === undefined) continue;
      const j = parseStreamEvent(ev.data);
      if (j.type === 'message_start') this.started = true;
      else if (!this.started && j.type !== 'error') throw streamWithoutStart();
      const c = this.event(j);
      if (c) out.push(c);
    }
    return out;
  }

  private event(j: Json): ChatChunk | undefined {
    switch (j.type) {
      case 'message_start': {
        const m = j.message as { id?: string; usage?: Partial<AnthropicUsage> };
        if (m.id) this.id = `chatcmpl-${m.id}`;
        this.usageSoFar = { ...m.usage };
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b = j.content_block as Json;
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') return this.chunk({ content: b.text });
        if (b.type !== 'tool_use') return undefined;
        const index = this.toolIndex.size;
        this.toolIndex.set(j.index as number, index);
        const call = {
          index,
          id: String(b.id),
          type: 'function' as const,
          function: { name: String(b.name), arguments: '' },
        };
        return this.chunk({ tool_calls: [call] });
      }
      case 'content_block_delta': {
        const d = j.delta as Json;
        if (d.type === 'text_delta') return this.chunk({ content: String(d.text) });
        if (d.type === 'thinking_delta') return this.chunk({ reasoning_content: String(d.thinking) });
        if (d.type === 'input_json_delta') {
          const index = this.toolIndex.get(j.index as number);
          if (index === undefined || d.partial_json === '') return undefined;
          return this.chunk({ tool_calls: [{ index, function: { arguments: String(d.partial_json) } }] });
        }
        return undefined;
      }
      case 'message_delta': {
        const d = j.delta as { stop_reason?: string | null; stop_sequence?: string | null };
        this.usageSoFar = { ...this.usageSoFar, ...(j.usage as Partial<AnthropicUsage>) };
        const c = this.chunk({}, finishOfStop(d.stop_reason));
        if (d.stop_sequence) c.stop_sequence = d.stop_sequence;
        return c;
      }
      case 'message_stop': {
        this.stopped = true;
        const usage = this.usage();
        return usage ? { ...this.chunk({}), choices: [], usage: openAIUsage(usage) } : undefined;
      }
      case 'error': {
        const e = isRecord(j.error) ? j.error : {};
        const type = upstreamCode(e.type, 'upstream_stream_error');
        const status = Object.hasOwn(ERROR_STATUS, type) ? (ERROR_STATUS[type] as number) : 502;
        const kind = status === 529 ? 'overloaded' : status === 429 ? 'rate_limit' : 'upstream';
        throw new GatewayError(status, kind, this.scrub(e.message), { code: type });
      }
      default:
        return undefined;
    }
  }

  complete(): boolean {
    return this.stopped;
  }

  end(): GatewayError | undefined {
    return this.stopped
      ? undefined
      : badUpstream('upstream closed the stream before it completed', 'upstream_stream_incomplete');
  }

  usage(): Usage | undefined {
    return this.usageSoFar.input_tokens === undefined && this.usageSoFar.output_tokens === undefined
      ? undefined
      : usageFromAnthropic(this.usageSoFar);
  }
}
