/**
 * Per-attempt deadlines (first byte, idle between chunks, total) that abort the upstream request. While the client
 * does not read (backpressure paused the upstream) the idle limit measures the client instead: a limit that runs
 * out then aborts the attempt as the client's doing (`aborted`), never as an upstream timeout.
 */
import type { AttemptAbort } from '../upstream/abort.js';
import { UpstreamTransportError } from '../upstream/send.js';

export class AttemptTimers {
  private firstByte: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private total: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly controller: AttemptAbort,
    private readonly limits: { firstByteMs: number; idleMs: number; totalMs: number },
  ) {
    if (limits.firstByteMs > 0)
      this.firstByte = setTimeout(() => this.fire('no first byte within the time limit'), limits.firstByteMs);
    if (limits.totalMs > 0)
      this.total = setTimeout(() => this.fire('upstream exceeded its total time limit'), limits.totalMs);
  }

  private fire(message: string) {
    this.controller.abort(
      this.paused
        ? new UpstreamTransportError('aborted', 'the client stopped reading the answer')
        : new UpstreamTransportError('timeout', message),
    );
  }

  /** The client stopped reading: the upstream is paused, so a limit running out from now on is the client's doing. */
  clientPaused() {
    this.paused = true;
    this.idle?.refresh();
  }

  /** The client reads again: the upstream gets a fresh idle period. */
  clientResumed() {
    this.paused = false;
    this.touch();
  }

  /** The first byte arrived: from now on the idle limit applies between chunks (of a stream: `streaming`). */
  firstByteSeen(streaming = true) {
    clearTimeout(this.firstByte);
    this.firstByte = undefined;
    if (streaming) this.touch();
  }

  /** A chunk arrived: restart the idle timer. */
  touch() {
    if (this.limits.idleMs <= 0) return;
    if (this.idle) this.idle.refresh();
    else this.idle = setTimeout(() => this.fire('upstream stream idle for too long'), this.limits.idleMs);
  }

  clear() {
    clearTimeout(this.firstByte);
    clearTimeout(this.idle);
    clearTimeout(this.total);
  }
}
