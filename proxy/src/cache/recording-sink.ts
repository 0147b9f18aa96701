/**
 * The sink the governance stage puts in front of the pipeline: adds its headers to the response head
 * (`x-switchyard-cache`, `x-ratelimit-*`) and, for cacheable requests, records the bytes sent so a complete 200
 * answer can be stored (recording stops, and nothing is stored, once it exceeds `maxBytes`).
 */

import { DelegatingSink } from '../http/delegating-sink.js';
import type { ResponseSink } from '../http/sink.js';

export class RecordingSink extends DelegatingSink {
  status: number | undefined;
  contentType: string | undefined;
  /** True once the answer ended normally through this sink. */
  ended = false;
  private chunks: string[] = [];
  private size = 0;
  private recording: boolean;

  constructor(
    inner: ResponseSink,
    private readonly extraHeaders: Record<string, string>,
    record: boolean,
    private readonly maxBytes: number,
  ) {
    super(inner);
    this.recording = record;
  }

  override writeHead(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.contentType = headers['content-type'];
    if (status !== 200) this.stopRecording();
    super.writeHead(status, { ...headers, ...this.extraHeaders });
  }

  override write(chunk: string | Buffer): boolean {
    this.record(chunk);
    return super.write(chunk);
  }

  override end(chunk?: string | Buffer): void {
    if (chunk !== undefined) this.record(chunk);
    if (!this.inner.closed) this.ended = true;
    super.end(chunk);
  }

  private record(chunk: string | Buffer) {
    if (!this.recording) return;
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.size += Buffer.byteLength(text);
    if (this.size > this.maxBytes) this.stopRecording();
    else this.chunks.push(text);
  }

  private stopRecording() {
    this.recording = false;
    this.chunks = [];
  }

  /** The complete recorded body, when the answer is storable (200, ended normally, within the size limit). */
  recorded(): string | undefined {
    return this.recording && this.ended && this.status === 200 ? this.chunks.join('') : undefined;
  }
}
