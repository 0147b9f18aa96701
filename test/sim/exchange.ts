/** One request/response pair: body, cancellable sleeps, client-abort detection and answer helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Directives, type OutputControls, outputControls } from './directives.js';
import type { ErrorReply } from './flavours/types.js';
import type { Runtime } from './runtime.js';
import type { FaultSpec } from './types.js';

/** Per-request context handed to flavour handlers. */
export class Exchange {
  readonly start = performance.now();
  /** Raw body text ('' when none). */
  raw = '';
  /** Parsed JSON body. */
  body: unknown = undefined;
  /** `[sim …]` directives found in the body. */
  directives: Directives | null = null;
  /** Stream-level fault to apply while answering (reset, mid-stream error, close without done). */
  fault: FaultSpec | null = null;
  /** The connection is gone (client abort, reset or kill): stop working on this request. */
  gone = false;
  /** `performance.now()` when the first token was written, 0 before. */
  firstByteAt = 0;
  /** Called once when the connection closes (frees queue entries and slots). */
  onGone: (() => void) | null = null;
  /** The route is a generation/embedding endpoint (counts towards `completed`). */
  inference = false;
  /** Error shape of the route being served (defaults to the flavour's). */
  errorShape: (status: number, message?: string, param?: string | null) => ErrorReply;
  private serverEnded = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: ((alive: boolean) => void) | undefined;
  private controlsCache: OutputControls | undefined;

  constructor(
    readonly rt: Runtime,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
  ) {
    this.errorShape = rt.flavour.error;
    rt.inflight++;
    res.once('close', () => this.closed());
  }

  /** Output controls from `x-sim-*` headers and body directives. */
  controls(): OutputControls {
    this.controlsCache ??= outputControls(this.req.headers, this.directives);
    return this.controlsCache;
  }

  /** Waits `ms`; resolves false (early) when the connection went away. */
  sleep(ms: number): Promise<boolean> {
    if (this.gone) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.wake = undefined;
        resolve(!this.gone);
      }, ms);
    });
  }

  /** Writes a chunk; waits for `drain` under backpressure. Resolves false when the connection went away. */
  write(chunk: string): boolean | Promise<boolean> {
    if (this.gone) return false;
    if (this.res.write(chunk)) return true;
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve(!this.gone);
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Sends a complete answer (no `content-type` when `contentType` is ''); counts errors and inference completions. */
  send(status: number, body: string, contentType: string, headers?: Record<string, string>): void {
    if (this.gone || this.res.headersSent) return;
    const c = this.rt.counters;
    if (status >= 400) c.errors++;
    else if (this.inference) c.completed++;
    const f = this.rt.flavour;
    const h: Record<string, string | number> = { ...f.baseHeaders, ...f.answerHeaders?.(), ...headers };
    if (contentType) h['content-type'] = contentType;
    h['content-length'] = Buffer.byteLength(body);
    this.res.writeHead(status, h);
    this.res.end(body);
  }

  /** Sends `value` as JSON in the flavour's JSON content type. */
  json(status: number, value: unknown, headers?: Record<string, string>): void {
    this.send(status, JSON.stringify(value), this.rt.flavour.jsonType, headers);
  }

  /** Sends an error reply (flavour-shaped). */
  reply(e: ErrorReply): void {
    this.send(e.status, e.body, e.contentType, e.headers);
  }

  /** Sends the route's error for `status`. */
  error(status: number, message?: string, param?: string | null): void {
    this.reply(this.errorShape(status, message, param));
  }

  /** Never answers (the `hang` fault); the socket stays open until the client, `close()` or `kill()` ends it. */
  hang(): void {
    this.rt.hung.add(this);
  }

  /** Destroys the connection with a TCP reset, as a crashing server would. */
  reset(): void {
    this.serverEnded = true;
    const socket = this.req.socket;
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  }

  /** Marks an intentional truncated end (fault) so the close is not counted as a client abort. */
  endByServer(chunk?: string): void {
    this.serverEnded = true;
    this.res.end(chunk);
  }

  private closed(): void {
    const rt = this.rt;
    rt.inflight--;
    rt.hung.delete(this);
    if (!this.res.writableFinished && !this.serverEnded && !rt.killing) rt.counters.abortedByClient++;
    this.gone = true;
    clearTimeout(this.timer);
    const wake = this.wake;
    this.wake = undefined;
    wake?.(false);
    this.onGone?.();
  }
}
