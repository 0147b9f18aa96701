/**
 * Per-request timings the metrics, the access log and tracing share: when the request entered the pipeline,
 * when its attempts ran and how long the upstream took. Kept beside the RequestState (a WeakMap keyed by it), so
 * it disappears with the request.
 */
import type { RequestState } from '../env.js';

/** Times are `performance.now()` milliseconds. */
export interface RequestTrack {
  /** Entry into the call pipeline (after the body was read). */
  enteredAt: number;
  /** Start of the first upstream attempt; -1 while none started. */
  firstAttemptAt: number;
  attemptStartedAt: number;
  lastAttemptEndAt: number;
  /** Sum of the attempts' durations. */
  upstreamMs: number;
  /** Time to first byte of the latest attempt that got one. */
  ttfbMs: number | undefined;
}

/** The tracks of requests in flight. */
export class RequestTracks {
  private readonly tracks = new WeakMap<RequestState, RequestTrack>();

  /** Starts tracking `state` now. */
  begin(state: RequestState, now = performance.now()): RequestTrack {
    const track: RequestTrack = {
      enteredAt: now,
      firstAttemptAt: -1,
      attemptStartedAt: now,
      lastAttemptEndAt: now,
      upstreamMs: 0,
      ttfbMs: undefined,
    };
    this.tracks.set(state, track);
    return track;
  }

  /** The track of `state`, started now if the request bypassed the pipeline entry. */
  of(state: RequestState): RequestTrack {
    return this.tracks.get(state) ?? this.begin(state);
  }

  /** The track of `state` if it entered the pipeline. */
  peek(state: RequestState): RequestTrack | undefined {
    return this.tracks.get(state);
  }
}

/**
 * Time spent in the gateway: from pipeline entry to the first attempt, plus from the end of the last attempt to
 * `endedAt`. Undefined for requests that never reached an upstream.
 */
export function gatewayOverheadMs(track: RequestTrack, endedAt: number): number | undefined {
  if (track.firstAttemptAt < 0) return undefined;
  return Math.max(0, track.firstAttemptAt - track.enteredAt) + Math.max(0, endedAt - track.lastAttemptEndAt);
}
