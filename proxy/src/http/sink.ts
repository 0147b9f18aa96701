/**
 * Where a response goes. NodeSink writes straight to the Node ServerResponse (zero-copy relay with backpressure);
 * WebSink builds a Fetch Response for runtimes without Node bindings (tests via app.request).
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

/** Sink producing a Fetch Response (no Node bindings). */
export class WebSink implements ResponseSink {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      this.controller = c;
    },
    cancel: () => {
      this.cancelled = true;
      runAll(this.abortCallbacks);
    },
  });
  private head: { status: number; headers: Record<string, string> } | undefined;
  private ended = false;
  private cancelled = false;
  private abortCallbacks: Array<() => void> = [];
  private readonly encoder = new TextEncoder();

  get closed() {
    return this.ended || this.cancelled;
  }
  get headSent() {
    return this.head !== undefined;
  }
  writeHead(status: number, headers: Record<string, string>) {
    this.head = { status, headers };
  }
  write(chunk: string | Buffer) {
    if (!this.closed)
      this.controller.enqueue(typeof chunk === 'string' ? this.encoder.encode(chunk) : new Uint8Array(chunk));
    return true;
  }
  onceDrain(cb: () => void) {
    cb();
  }
  end(chunk?: string | Buffer) {
    if (chunk !== undefined) this.write(chunk);
    if (!this.closed) this.controller.close();
    this.ended = true;
  }
  destroy() {
    if (!this.closed) this.controller.error(new Error('connection closed by the gateway'));
    this.cancelled = true;
  }
  onAbort(cb: () => void) {
    this.abortCallbacks.push(cb);
  }
  response() {
    if (!this.head) throw new Error('WebSink: response() before writeHead()');
    return new Response(this.stream, { status: this.head.status, headers: this.head.headers });
  }
}
