/**
 * Ollama clients served by an Ollama upstream: bodies passed through natively (model renamed). Streams are relayed
 * line by line as they arrive; usage comes from the `done` line, an `{"error":…}` line is thrown (the surface
 * writes its own error line), and a stream without a `done` line is reported as incomplete.
 */
import type { z } from 'zod';
import { GatewayError } from '../../errors.js';
import type { Usage } from '../canonical/usage.js';
import type { OperationOf } from '../catalog.js';
import { incompleteStream, type Json, parseStreamEvent, parseUpstreamJson } from '../common/json.js';
import { NdjsonSplitter } from '../common/ndjson.js';
import { scrubSecrets } from '../common/secrets.js';
import { openAIErrorParser } from '../openai/upstream-errors.js';
import type { RequestBodies } from '../requests.js';
import type { Adapter, AttemptContext, StreamTranslator } from '../types.js';
import { OLLAMA_PATHS, ollamaHeaders } from './headers.js';
import { usageFromOllama } from './response.js';
import { OLLAMA_ANSWER, type OllamaEmbedRequest } from './schemas.js';

class OllamaPassthroughStream implements StreamTranslator {
  private readonly lines: NdjsonSplitter;
  private done = false;
  private seenUsage: Usage | undefined;

  constructor(private readonly ctx: AttemptContext) {
    this.lines = new NdjsonSplitter(ctx.maxEventBytes);
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const line of this.lines.push(chunk)) {
      if (this.done) break;
      const a = parseStreamEvent(line, 'stream line');
      if (typeof a.error === 'string')
        throw new GatewayError(502, 'upstream', scrubSecrets(a.error, this.ctx.backend.apiKey), {
          code: 'upstream_stream_error',
        });
      if (a.done) {
        this.done = true;
        this.seenUsage = usageFromOllama(a);
      }
      out += `${JSON.stringify('model' in a ? { ...a, model: this.ctx.publicModel } : a)}\n`;
    }
    return out;
  }

  complete(): boolean {
    return this.done;
  }

  end(): string | GatewayError {
    return this.done ? '' : incompleteStream();
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }
}

/** Whether an embed body is the legacy `/api/embeddings` form (`prompt`, answered with one `embedding`). */
export const isLegacyEmbed = (body: OllamaEmbedRequest) => typeof body.prompt === 'string' && body.input === undefined;

type OllamaOperation = OperationOf<'ollama'>;

/** Where a request posts, and what the answer must carry. */
interface Target {
  path: string;
  shape: z.ZodType<Json>;
}

/** A native pass-through adapter posting each request to its `target`. */
function passthrough<O extends OllamaOperation>(target: (body: RequestBodies[O]) => Target): Adapter<O> {
  return {
    streamContentType: 'application/x-ndjson',
    buildRequest: (ctx) => ({
      method: 'POST',
      path: target(ctx.body).path,
      headers: ollamaHeaders(ctx, ctx.stream),
      body: JSON.stringify({ ...ctx.body, model: ctx.upstreamModel }),
    }),
    parseError: openAIErrorParser,
    translateResponse(body, ctx) {
      const j = parseUpstreamJson(body, target(ctx.body).shape);
      const usage = usageFromOllama(j);
      const answer = 'model' in j ? { ...j, model: ctx.publicModel } : j;
      return { body: JSON.stringify(answer), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new OllamaPassthroughStream(ctx),
  };
}

/** Native pass-throughs of the Ollama operations. */
export const OLLAMA_PASSTHROUGH: { [O in OllamaOperation]: Adapter<O> } = {
  ollama_chat: passthrough(() => ({ path: OLLAMA_PATHS.chat, shape: OLLAMA_ANSWER.chat })),
  ollama_generate: passthrough(() => ({ path: OLLAMA_PATHS.generate, shape: OLLAMA_ANSWER.generate })),
  ollama_embed: passthrough((body) =>
    isLegacyEmbed(body)
      ? { path: OLLAMA_PATHS.embeddings, shape: OLLAMA_ANSWER.embeddings }
      : { path: OLLAMA_PATHS.embed, shape: OLLAMA_ANSWER.embed },
  ),
};
