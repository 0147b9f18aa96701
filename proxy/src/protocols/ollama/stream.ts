/**
 * Ollama NDJSON streams ↔ canonical chunks. The decoder turns each line into a chunk (a whole tool call per line
 * becomes one tool_calls delta with its complete arguments) and the `done` line into a finish chunk plus a usage
 * chunk; an `{"error":…}` line is thrown. The encoder writes a line per text delta and, since Ollama clients expect
 * whole tool calls, holds a call's argument fragments until the call is complete; the `done` line ends the stream.
 */
import { GatewayError } from '../../errors.js';
import { type ChatChunk, type ChunkDelta, type FinishReason, oneChoiceChunk } from '../canonical/chat.js';
import type { ChunkDecoder, ChunkEncoder } from '../canonical/stream.js';
import { openAIUsage, type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { incompleteStream, type Json, parseArguments, parseStreamEventAs, randomId } from '../common/json.js';
import { NdjsonSplitter } from '../common/ndjson.js';
import { scrubSecrets } from '../common/secrets.js';
import { doneOfFinish, finishOfDone, toolCallsFromOllama, usageFromOllama } from './response.js';
import { ollamaAnswer } from './schemas.js';

export class OllamaChunkDecoder implements ChunkDecoder {
  private readonly lines: NdjsonSplitter;
  private readonly id = randomId('chatcmpl-');
  private readonly created = Math.floor(Date.now() / 1000);
  private started = false;
  private tools = 0;
  private done = false;
  private seenUsage: Usage | undefined;

  constructor(
    private readonly model: string,
    private readonly scrub: (message: unknown) => string = (m) => scrubSecrets(m),
    maxLineBytes = 0,
  ) {
    this.lines = new NdjsonSplitter(maxLineBytes);
  }

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk {
    if (!this.started) {
      this.started = true;
      delta = { role: 'assistant', ...delta };
    }
    return oneChoiceChunk({ id: this.id, created: this.created, model: this.model }, delta, finish);
  }

  push(chunk: Buffer): ChatChunk[] {
    const out: ChatChunk[] = [];
    for (const line of this.lines.push(chunk)) {
      if (this.done) break;
      const a = parseStreamEventAs(line, ollamaAnswer, 'stream line');
      if (typeof a.error === 'string')
        throw new GatewayError(502, 'upstream', this.scrub(a.error), { code: 'upstream_stream_error' });
      const m = a.message ?? {};
      const text = a.response ?? m.content;
      const thinking = m.thinking ?? a.thinking;
      if (thinking) out.push(this.chunk({ reasoning_content: thinking }));
      if (text) out.push(this.chunk({ content: text }));
      const calls = toolCallsFromOllama(m.tool_calls);
      if (calls.length) out.push(this.chunk({ tool_calls: calls.map((c) => ({ index: this.tools++, ...c })) }));
      if (a.done) {
        this.done = true;
        this.seenUsage = usageFromOllama(a);
        out.push(this.chunk({}, finishOfDone(a.done_reason, this.tools > 0)));
        if (this.seenUsage) out.push({ ...this.chunk({}), choices: [], usage: openAIUsage(this.seenUsage) });
      }
    }
    return out;
  }

  complete(): boolean {
    return this.done;
  }

  end(): GatewayError | undefined {
    return this.done ? undefined : incompleteStream();
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }
}

export class OllamaChunkEncoder implements ChunkEncoder {
  private readonly startedAt = performance.now();
  private pending: { index: number; name: string; args: string } | undefined;
  private finishReason: string | null = null;
  private finalUsage: Usage | undefined;

  constructor(
    private readonly model: string,
    private readonly kind: 'chat' | 'generate',
  ) {}

  /** One NDJSON line: `message` (chat) or `response` (generate), then `fields`. */
  private line(fields: Json, message: { content?: string; thinking?: string; tool_calls?: unknown[] } = {}): string {
    const head = { model: this.model, created_at: new Date().toISOString() };
    const body =
      this.kind === 'generate'
        ? { ...head, response: message.content ?? '' }
        : { ...head, message: { role: 'assistant', content: '', ...message } };
    return `${JSON.stringify({ ...body, ...fields })}\n`;
  }

  private flushTool(): string {
    const p = this.pending;
    if (!p) return '';
    this.pending = undefined;
    const call = {
      function: { name: p.name, arguments: parseArguments(p.args, 'tool_calls.function.arguments', true) },
    };
    return this.line({ done: false }, { tool_calls: [call] });
  }

  encode(chunk: ChatChunk): string {
    let out = '';
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) this.finalUsage = usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta ?? {};
    if (d.reasoning_content && this.kind === 'chat')
      out += this.line({ done: false }, { thinking: d.reasoning_content });
    if (d.content) out += this.line({ done: false }, { content: d.content });
    for (const tc of d.tool_calls ?? []) {
      if (this.pending?.index !== tc.index) {
        out += this.flushTool();
        this.pending = { index: tc.index, name: tc.function?.name ?? '', args: '' };
      }
      this.pending.args += tc.function?.arguments ?? '';
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  finish(): string {
    const total = Math.round((performance.now() - this.startedAt) * 1e6);
    const u = this.finalUsage;
    return (
      this.flushTool() +
      this.line({
        done: true,
        done_reason: doneOfFinish(this.finishReason),
        total_duration: total,
        ...(u ? { prompt_eval_count: u.inputTokens, eval_count: u.outputTokens } : {}),
      })
    );
  }
}
