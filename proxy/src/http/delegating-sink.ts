/** A ResponseSink that forwards everything to another one; subclasses observe what passes through. */
import type { ResponseSink } from './sink.js';

export class DelegatingSink implements ResponseSink {
  constructor(readonly inner: ResponseSink) {}

  writeHead(status: number, headers: Record<string, string>): void {
    this.inner.writeHead(status, headers);
  }
  write(chunk: string | Buffer): boolean {
    return this.inner.write(chunk);
  }
  onceDrain(cb: () => void): void {
    this.inner.onceDrain(cb);
  }
  end(chunk?: string | Buffer): void {
    this.inner.end(chunk);
  }
  destroy(): void {
    this.inner.destroy();
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get headSent(): boolean {
    return this.inner.headSent;
  }
  onAbort(cb: () => void): void {
    this.inner.onAbort(cb);
  }
  response(): Response {
    return this.inner.response();
  }
}

/** A sink that adds `headers` to the response head (they win over the ones it is given). */
export class HeaderSink extends DelegatingSink {
  constructor(
    inner: ResponseSink,
    private readonly headers: Readonly<Record<string, string>>,
  ) {
    super(inner);
  }

  override writeHead(status: number, headers: Record<string, string>): void {
    super.writeHead(status, { ...headers, ...this.headers });
  }
}
