/**
 * Counts the content deltas of a streamed answer as they are written to the client. When the client aborts a
 * stream the upstream never sends its usage, so this count is the output-token estimate: servers like vLLM and
 * OpenAI send about one token per delta event. Works on the client surface's bytes (OpenAI/Anthropic SSE, Ollama
 * NDJSON) by matching the non-empty text fields of deltas; whole events are written at a time by the relay.
 */

import { DelegatingSink } from '../http/delegating-sink.js';
import type { ResponseSink } from '../http/sink.js';

const DELTA = /"(?:content|reasoning_content|reasoning|text|response|thinking|partial_json|arguments)":"(?!")/g;

/** Number of non-empty text deltas in `chunk`. */
export function countDeltas(chunk: string): number {
  let n = 0;
  DELTA.lastIndex = 0;
  while (DELTA.exec(chunk) !== null) n++;
  return n;
}

export class StreamMeterSink extends DelegatingSink {
  /** Text deltas written so far. */
  deltas = 0;

  constructor(inner: ResponseSink) {
    super(inner);
  }

  override write(chunk: string | Buffer): boolean {
    this.deltas += countDeltas(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    return super.write(chunk);
  }

  override end(chunk?: string | Buffer): void {
    if (chunk !== undefined) this.deltas += countDeltas(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    super.end(chunk);
  }
}
