/**
 * Responses clients of upstreams that serve the Responses API themselves (vLLM, OpenAI): the body goes to
 * `POST /responses` with the upstream model name and `store: false` (the gateway keeps no state, so nothing may be
 * stored upstream either), and answers come back with the public model name. The stream relay forwards each typed
 * event as it arrives, rewriting the model name inside the `response` object of the lifecycle events; usage is read
 * from the final `response.completed` / `response.incomplete` event, which also ends the stream. An `error` or
 * `response.failed` event is an upstream failure (retried when nothing reached the client yet).
 */
import type { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import type { Usage } from '../canonical/usage.js';
import {
  emptyStream,
  incompleteStream,
  isRecord,
  type Json,
  parseStreamEvent,
  parseUpstreamJson,
} from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';
import type { Adapter, AdapterContext, AttemptContext, StreamTranslator, UpstreamRequest } from '../types.js';
import { usageFromResponses } from './responses-answer.js';
import { responsesAnswer } from './responses-schemas.js';
import { responsesErrorEvent } from './responses-stream.js';
import { streamedError } from './stream.js';
import { openAIHeaders } from './upstream.js';
import { openAIErrorParser } from './upstream-errors.js';

const TERMINAL = new Set(['response.completed', 'response.incomplete']);

/**
 * An upstream `response` object as the client sees it: the public model name, and no `usage` while there is none
 * (servers send `null` before the end; OpenAI's published schema types usage as an object).
 */
function publicResponse(r: Json, model: string): Json {
  const { usage, ...rest } = r;
  return { ...rest, model, ...(usage === null || usage === undefined ? {} : { usage }) };
}

function request(ctx: AdapterContext<'responses'>): UpstreamRequest {
  return {
    method: 'POST',
    path: '/responses',
    headers: openAIHeaders(ctx, ctx.stream),
    body: JSON.stringify({ ...ctx.body, model: ctx.upstreamModel, store: false }),
  };
}

/** A Responses stream relayed event by event. One instance per request. */
export class ResponsesPassthroughStream implements StreamTranslator {
  private readonly sse: SseSplitter;
  private sawEvent = false;
  private done = false;
  private seenUsage: Usage | undefined;
  /** The number the next event gets: one after the last upstream `sequence_number` relayed. */
  private nextSequence = 0;

  constructor(private readonly ctx: AttemptContext) {
    this.sse = new SseSplitter(ctx.maxEventBytes);
  }

  private failed(error: unknown): GatewayError {
    return streamedError(error, (m) => scrubSecrets(m, this.ctx.backend.apiKey));
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const ev of this.sse.push(chunk)) {
      if (this.done) break;
      if (ev.data === undefined) {
        out += ev.raw;
        continue;
      }
      const j = parseStreamEvent(ev.data);
      const type = typeof j.type === 'string' ? j.type : ev.event;
      if (type === 'error' || j.error !== undefined) throw this.failed(isRecord(j.error) ? j.error : j);
      const response = isRecord(j.response) ? j.response : undefined;
      if (type === 'response.failed') throw this.failed(response?.error);
      this.sawEvent = true;
      if (typeof j.sequence_number === 'number' && Number.isSafeInteger(j.sequence_number))
        this.nextSequence = j.sequence_number + 1;
      if (type && TERMINAL.has(type)) {
        this.done = true;
        this.seenUsage = usageFromResponses(response?.usage);
      }
      out += response ? this.lifecycle(type, j, response) : ev.raw;
    }
    return out;
  }

  /** A lifecycle event with the public model name and without the `usage: null` the published schema does not allow. */
  private lifecycle(type: string | undefined, j: Json, response: Json): string {
    const data = JSON.stringify({ ...j, response: publicResponse(response, this.ctx.publicModel) });
    return `${type ? `event: ${type}\n` : ''}data: ${data}\n\n`;
  }

  complete(): boolean {
    return this.done;
  }

  end(): string | GatewayError {
    if (this.done) return '';
    return this.sawEvent ? incompleteStream() : emptyStream();
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }

  errorEvent(err: GatewayError): string {
    return responsesErrorEvent(err, this.nextSequence++);
  }
}

/** The pass-through adapter of the Responses API. */
export function responsesPassthrough(): Adapter<'responses'> {
  return {
    streamContentType: 'text/event-stream; charset=utf-8',
    buildRequest: request,
    parseError: openAIErrorParser,
    translateResponse(body, ctx) {
      const j = parseUpstreamJson(body, responsesAnswer);
      const usage = usageFromResponses(j.usage);
      return { body: JSON.stringify(publicResponse(j, ctx.publicModel)), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new ResponsesPassthroughStream(ctx),
  };
}
