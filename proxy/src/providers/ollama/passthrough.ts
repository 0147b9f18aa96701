/**
 * Ollama clients served by an Ollama upstream: bodies passed through natively (model renamed). Streams are relayed
 * line by line as they arrive; usage comes from the `done` line, an `{"error":…}` line is thrown (the surface
 * writes its own error line), and a stream without a `done` line is reported as incomplete.
 */
import { GatewayError } from '../../errors.js';
import { badUpstream, isRecord, parseStreamEvent } from '../../translation/common.js';
import { NdjsonSplitter } from '../../translation/ndjson.js';
import { usageFromOllama } from '../../translation/ollama-response.js';
import type { OllamaAnswer } from '../../translation/ollama-types.js';
import { parseOpenAIError } from '../openai/errors.js';
import { type AnswerShape, parseUpstreamJson } from '../openai/response.js';
import { scrubSecrets } from '../secrets.js';
import type { Adapter, AdapterContext, StreamTranslator, Usage } from '../types.js';
import { ollamaHeaders } from './request.js';

class OllamaPassthroughStream implements StreamTranslator {
  private readonly lines: NdjsonSplitter;
  private done = false;
  private seenUsage: Usage | undefined;

  constructor(private readonly ctx: AdapterContext) {
    this.lines = new NdjsonSplitter(ctx.maxEventBytes);
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const line of this.lines.push(chunk)) {
      if (this.done) break;
      const a = parseStreamEvent(line, 'stream line') as OllamaAnswer;
      if (typeof a.error === 'string')
        throw new GatewayError(502, 'upstream', scrubSecrets(a.error, this.ctx.backend.apiKey), {
          code: 'upstream_stream_error',
        });
      if (a.done) {
        this.done = true;
        this.seenUsage = usageFromOllama(a);
      }
      if ('model' in a) a.model = this.ctx.publicModel;
      out += `${JSON.stringify(a)}\n`;
    }
    return out;
  }

  complete(): boolean {
    return this.done;
  }

  end(): string | GatewayError {
    return this.done ? '' : badUpstream('upstream closed the stream before it completed', 'upstream_stream_incomplete');
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }
}

/** A native pass-through adapter posting to `path(ctx)`. */
export function ollamaPassthrough(
  path: (ctx: AdapterContext) => string,
  shape: (ctx: AdapterContext) => AnswerShape,
): Adapter {
  return {
    streamContentType: 'application/x-ndjson',
    buildRequest: (ctx) => ({
      method: 'POST',
      path: path(ctx),
      headers: ollamaHeaders(ctx, ctx.stream),
      body: JSON.stringify({ ...ctx.body, model: ctx.upstreamModel }),
    }),
    parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
    translateResponse(body, ctx) {
      const j = parseUpstreamJson(body, shape(ctx)) as OllamaAnswer;
      if ('model' in j) j.model = ctx.publicModel;
      const usage = isRecord(j) ? usageFromOllama(j) : undefined;
      return { body: JSON.stringify(j), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new OllamaPassthroughStream(ctx),
  };
}
