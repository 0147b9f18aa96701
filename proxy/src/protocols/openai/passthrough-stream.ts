/**
 * OpenAI SSE relay for OpenAI-surface clients: forwards each upstream event as it arrives, records usage, strips
 * the usage-only chunk the client did not ask for, reports the public model name in every chunk whatever model name
 * the upstream echoes (llama.cpp reports its GGUF file name), and checks the stream ended properly (`finish_reason`
 * or `[DONE]`). One instance per request. Events are read as plain JSON (this is the hot path: no schema per event).
 */
import type { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import { type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { emptyStream, incompleteStream, isRecord, type Json, parseStreamEvent } from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';
import type { AttemptContext, StreamTranslator } from '../types.js';
import { streamedError } from './stream.js';

const DONE = 'data: [DONE]\n\n';

export class OpenAIPassthroughStream implements StreamTranslator {
  private readonly sse: SseSplitter;
  private sawDone = false;
  private sawFinish = false;
  private sawChunk = false;
  private usageSeen: Usage | undefined;
  /** The model name the upstream echoes and the pattern that finds it in an event's raw text (built once). */
  private echoed: { name: string; pattern: RegExp } | undefined;
  private readonly modelField: string;

  constructor(private readonly ctx: AttemptContext) {
    this.sse = new SseSplitter(ctx.maxEventBytes);
    this.modelField = `"model":${JSON.stringify(ctx.publicModel)}`;
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const ev of this.sse.push(chunk)) {
      if (this.sawDone) break;
      if (ev.data === undefined) {
        out += ev.raw;
        continue;
      }
      if (ev.data === '[DONE]') {
        if (!this.sawChunk) throw emptyStream();
        this.sawDone = true;
        out += DONE;
        continue;
      }
      const j = parseStreamEvent(ev.data);
      if (j.error !== undefined) throw streamedError(j.error, (m) => scrubSecrets(m, this.ctx.backend.apiKey));
      this.sawChunk = true;
      if (j.usage) this.usageSeen = usageFromOpenAI(j.usage);
      const choices = Array.isArray(j.choices) ? j.choices : [];
      if (choices.some((c) => isRecord(c) && c.finish_reason)) this.sawFinish = true;
      if (j.usage && choices.length === 0 && !this.ctx.clientWantsUsage) continue;
      out +=
        typeof j.model === 'string' && j.model !== this.ctx.publicModel
          ? this.withPublicModel(ev.raw, j.model, j)
          : ev.raw;
    }
    return out;
  }

  complete(): boolean {
    return this.sawDone;
  }

  /** The event with the public model name: its bytes edited in place, or re-serialised when the name is escaped. */
  private withPublicModel(raw: string, name: string, j: Json): string {
    if (this.echoed?.name !== name) {
      const literal = JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      this.echoed = { name, pattern: new RegExp(`"model"\\s*:\\s*${literal}`) };
    }
    const edited = raw.replace(this.echoed.pattern, this.modelField);
    return edited !== raw ? edited : `data: ${JSON.stringify({ ...j, model: this.ctx.publicModel })}\n\n`;
  }

  end(): string | GatewayError {
    if (this.sawDone) return '';
    if (this.sawFinish) return DONE;
    return incompleteStream();
  }

  usage(): Usage | undefined {
    return this.usageSeen;
  }
}
