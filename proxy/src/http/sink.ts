/**
 * Where a response goes. NodeSink writes straight to the Node ServerResponse (zero-copy relay with backpressure); other
 * sinks wrap it (http/delegating-sink.ts).
 */
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

export interface ResponseSink {
  /** Sends status and headers; must be called once, before any write. */
  writeHead(status: number, headers: Record<string, string>): void;
  /** Writes a chunk; false means the client is slow: wait for `drain` before writing more. */
  write(chunk: string | Buffer): boolean;
  /** Calls `cb` once when the client can take more data. */
  onceDrain(cb: () => void): void;
  end(chunk?: string | Buffer): void;
  /** Closes the client connection at once (a client that stopped reading): no more bytes, no clean end. */
  destroy(): void;
  /** True once the client went away or the response ended. */
  readonly closed: boolean;
  readonly headSent: boolean;
  /** Registers `cb` for a client that disconnects before the response ended. */
  onAbort(cb: () => void): void;
  /** What the Hono handler returns once the head is sent. */
  response(): Response;
}

/** Runs every abort callback: one that throws neither stops the others nor reaches the event loop. */
function runAll(callbacks: ReadonlyArray<() => void>): void {
  for (const cb of callbacks) {
    try {
      cb();
    } catch {
      // An abort callback only releases what the request held; its failure must not end the process.
    }
  }
}

/** Sink over a Node ServerResponse. */
export class NodeSink implements ResponseSink {
  private ended = false;
  private aborted = false;
  private abortCallbacks: Array<() => void> = [];

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      if (!this.ended || !res.writableFinished) {
        this.aborted = !res.writableFinished;
        if (this.aborted) runAll(this.abortCallbacks);
      }
      this.abortCallbacks = [];
    });
  }
  get closed() {
    return this.ended || this.aborted || this.res.destroyed;
  }
  get headSent() {
    return this.res.headersSent;
  }
  writeHead(status: number, headers: Record<string, string>) {
    this.res.writeHead(status, headers);
    // Send the head now for streams, so clients see it before the first token.
    if (headers['content-type']?.startsWith('text/event-stream') || headers['content-type'] === 'application/x-ndjson')
      this.res.flushHeaders();
  }
  write(chunk: string | Buffer) {
    return this.res.destroyed ? true : this.res.write(chunk);
  }
  onceDrain(cb: () => void) {
    if (this.res.destroyed) cb();
    else {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        cb();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    }
  }
  end(chunk?: string | Buffer) {
    this.ended = true;
    if (!this.res.destroyed) this.res.end(chunk);
  }
  destroy() {
    this.res.destroy();
  }
  onAbort(cb: () => void) {
    if (this.aborted || this.res.destroyed) cb();
    else this.abortCallbacks.push(cb);
  }
  response() {
    return RESPONSE_ALREADY_SENT;
  }
}
