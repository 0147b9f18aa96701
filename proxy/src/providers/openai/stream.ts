/**
 * OpenAI SSE relay for OpenAI-surface clients: forwards each upstream event as it arrives, records usage, strips
 * the usage-only chunk the client did not ask for, reports the public model name in every chunk whatever model name
 * the upstream echoes (llama.cpp reports its GGUF file name), and checks the stream ended properly (`finish_reason`
 * or `[DONE]`). One instance per request.
 */
import { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import { emptyStream, parseStreamEvent } from '../../translation/common.js';
import { scrubSecrets } from '../secrets.js';
import type { AdapterContext, StreamTranslator, Usage } from '../types.js';
import { usageFromOpenAI } from './response.js';

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

  constructor(private readonly ctx: AdapterContext) {
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
      const j = parseStreamEvent(ev.data) as {
        choices?: Array<{ finish_reason?: string | null }>;
        usage?: unknown;
        error?: unknown;
        model?: unknown;
      };
      if (j.error !== undefined) {
        const e = j.error as { message?: unknown };
        const msg = typeof e?.message === 'string' ? e.message : 'upstream reported an error mid-stream';
        throw new GatewayError(502, 'upstream', scrubSecrets(msg, this.ctx.backend.apiKey), {
          code: 'upstream_stream_error',
        });
      }
      this.sawChunk = true;
      if (j.usage) this.usageSeen = usageFromOpenAI(j.usage as Parameters<typeof usageFromOpenAI>[0]);
      const choices = j.choices ?? [];
      if (choices.some((c) => c.finish_reason)) this.sawFinish = true;
      if (j.usage && choices.length === 0 && !this.ctx.clientWantsUsage) continue;
      out += typeof j.model === 'string' && j.model !== this.ctx.publicModel ? this.withPublicModel(ev.raw, j) : ev.raw;
    }
    return out;
  }

  complete(): boolean {
    return this.sawDone;
  }

  /** The event with the public model name: its bytes edited in place, or re-serialised when the name is escaped. */
  private withPublicModel(raw: string, j: Record<string, unknown>): string {
    const name = j.model as string;
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
    return new GatewayError(502, 'upstream', 'upstream closed the stream before it completed', {
      code: 'upstream_stream_incomplete',
    });
  }

  usage(): Usage | undefined {
    return this.usageSeen;
  }
}
