/**
 * Per-attempt deadlines (first byte, idle between chunks, total) that abort the upstream request. While the client
 * does not read (backpressure paused the upstream) the idle limit measures the client instead: a limit that runs
 * out then aborts the attempt as the client's doing (`aborted`), never as an upstream timeout.
 *
 * The idle limit is lazy: a chunk only notes the time, and the one idle timer, when it fires early, sleeps for what
 * is left (no timer per chunk).
 */
import type { Clock, Timer } from '../../../shared/src/clock.js';
import type { AttemptAbort } from '../upstream/abort.js';
import { UpstreamTransportError } from '../upstream/send.js';

export class AttemptTimers {
  private firstByte: Timer | undefined;
  private idle: Timer | undefined;
  private total: Timer | undefined;
  /** Start of the current idle period (clock ms). */
  private idleSince = 0;
  private paused = false;

  constructor(
    private readonly controller: AttemptAbort,
    private readonly limits: { firstByteMs: number; idleMs: number; totalMs: number },
    private readonly clock: Clock,
  ) {
    if (limits.firstByteMs > 0)
      this.firstByte = clock.after(limits.firstByteMs, () => this.fire('no first byte within the time limit'));
    if (limits.totalMs > 0)
      this.total = clock.after(limits.totalMs, () => this.fire('upstream exceeded its total time limit'));
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
    if (this.idle) this.idleSince = this.clock.now();
  }

  /** The client reads again: the upstream gets a fresh idle period. */
  clientResumed() {
    this.paused = false;
    this.touch();
  }

  /** The first byte arrived: from now on the idle limit applies between chunks (of a stream: `streaming`). */
  firstByteSeen(streaming = true) {
    this.firstByte?.cancel();
    this.firstByte = undefined;
    if (streaming) this.touch();
  }

  /** A chunk arrived: a new idle period starts. */
  touch() {
    if (this.limits.idleMs <= 0) return;
    this.idleSince = this.clock.now();
    this.idle ??= this.clock.after(this.limits.idleMs, () => this.idleCheck());
  }

  /** The idle timer fired: the limit has run out, or a chunk since then leaves some of it. */
  private idleCheck() {
    const left = this.idleSince + this.limits.idleMs - this.clock.now();
    if (left > 0) this.idle = this.clock.after(left, () => this.idleCheck());
    else this.fire('upstream stream idle for too long');
  }

  clear() {
    this.firstByte?.cancel();
    this.idle?.cancel();
    this.total?.cancel();
  }
}
