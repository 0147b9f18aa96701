/**
 * Anthropic Messages SSE → canonical chunks (the upstream side). Text deltas become `content`, thinking deltas
 * `reasoning_content`, each `tool_use` block one tool call (its `input_json_delta` fragments become incremental
 * `function.arguments`), `message_delta` the finish reason, and `message_stop` a final usage chunk. An `error` event
 * is thrown. Events are read field by field: an unexpected type of a field reads as absent.
 */
import { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import { type ChatChunk, type ChunkDelta, type FinishReason, oneChoiceChunk } from '../canonical/chat.js';
import type { ChunkDecoder } from '../canonical/stream.js';
import { openAIUsage, type Usage } from '../canonical/usage.js';
import { incompleteStream, isRecord, type Json, parseStreamEvent, randomId } from '../common/json.js';
import { scrubSecrets, upstreamCode } from '../common/secrets.js';
import { finishOfStop, streamWithoutStart, usageFromAnthropic } from './mapping.js';

/** Statuses for clients of other surfaces: 529 is Anthropic's own, their SDKs know 503 (as upstream-errors.ts). */
const ERROR_STATUS: Record<string, number> = { overloaded_error: 503, rate_limit_error: 429, api_error: 502 };

const record = (v: unknown): Json => (isRecord(v) ? v : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The error an Anthropic upstream reports inside its stream, secrets scrubbed; 503 for `overloaded_error`. */
export function anthropicStreamedError(error: unknown, scrub: (message: unknown) => string): GatewayError {
  const e = record(error);
  const type = upstreamCode(e.type, 'upstream_stream_error');
  const status = Object.hasOwn(ERROR_STATUS, type) ? (ERROR_STATUS[type] as number) : 502;
  const kind = status === 503 ? 'overloaded' : status === 429 ? 'rate_limit' : 'upstream';
  return new GatewayError(status, kind, scrub(e.message), { code: type });
}

export class AnthropicChunkDecoder implements ChunkDecoder {
  private readonly sse: SseSplitter;
  private id = randomId('chatcmpl-');
  private readonly created = Math.floor(Date.now() / 1000);
  private usageSoFar: Json = {};
  /** Anthropic block index → OpenAI tool call index. */
  private readonly toolIndex = new Map<unknown, number>();
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
    return oneChoiceChunk({ id: this.id, created: this.created, model: this.model }, delta, finish);
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
        const m = record(j.message);
        if (typeof m.id === 'string' && m.id) this.id = `chatcmpl-${m.id}`;
        this.usageSoFar = { ...record(m.usage) };
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b = record(j.content_block);
        const t = text(b.text);
        if (b.type === 'text' && t) return this.chunk({ content: t });
        if (b.type !== 'tool_use') return undefined;
        const index = this.toolIndex.size;
        this.toolIndex.set(j.index, index);
        const call = { index, id: String(b.id), type: 'function', function: { name: String(b.name), arguments: '' } };
        return this.chunk({ tool_calls: [call] });
      }
      case 'content_block_delta': {
        const d = record(j.delta);
        if (d.type === 'text_delta') return this.chunk({ content: String(d.text) });
        if (d.type === 'thinking_delta') return this.chunk({ reasoning_content: String(d.thinking) });
        if (d.type === 'signature_delta' && typeof d.signature === 'string' && d.signature)
          return this.chunk({ reasoning_signature: d.signature });
        if (d.type === 'input_json_delta') {
          const index = this.toolIndex.get(j.index);
          if (index === undefined || d.partial_json === '') return undefined;
          return this.chunk({ tool_calls: [{ index, function: { arguments: String(d.partial_json) } }] });
        }
        return undefined;
      }
      case 'message_delta': {
        const d = record(j.delta);
        this.usageSoFar = { ...this.usageSoFar, ...record(j.usage) };
        const c = this.chunk({}, finishOfStop(text(d.stop_reason)));
        const sequence = text(d.stop_sequence);
        return sequence ? { ...c, stop_sequence: sequence } : c;
      }
      case 'message_stop': {
        this.stopped = true;
        const usage = this.usage();
        return usage ? { ...this.chunk({}), choices: [], usage: openAIUsage(usage) } : undefined;
      }
      case 'error':
        throw anthropicStreamedError(j.error, this.scrub);
      default:
        return undefined;
    }
  }

  complete(): boolean {
    return this.stopped;
  }

  end(): GatewayError | undefined {
    return this.stopped ? undefined : incompleteStream();
  }

  usage(): Usage | undefined {
    const u = this.usageSoFar;
    return u.input_tokens === undefined && u.output_tokens === undefined ? undefined : usageFromAnthropic(u);
  }
}
