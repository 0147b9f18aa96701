/** Counters of one simulator instance; `/metrics`, `/_sim/stats` and `stats()` all read from here. */

/** A Prometheus-style histogram (cumulative buckets are computed when rendered). */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= this.buckets[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** vLLM's bucket boundaries (seconds). */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
export const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];

/** Mutable counters. */
export class Counters {
  requests = 0;
  byPath = new Map<string, number>();
  completed = 0;
  errors = 0;
  abortedByClient = 0;
  faultsInjected = 0;
  tokensIn = 0;
  tokensOut = 0;
  prefixQueries = 0;
  prefixHits = 0;
  /** Finished generations by reason (`stop`, `length`, `abort`, …), for `vllm:request_success_total`. */
  finished = new Map<string, number>();
  /** Seconds spent in prefill and in decode (llama.cpp's `prompt_seconds_total` / `tokens_predicted_seconds_total`). */
  promptSeconds = 0;
  decodeSeconds = 0;
  /** Longest prompt + generation seen (llama.cpp `n_tokens_max`). */
  longestSequence = 0;
  /** Busy slots summed over decode steps (llama.cpp `n_busy_slots_per_decode` = this / `n_decode_total`). */
  busySlotSteps = 0;
  ttft = new Histogram(TTFT_BUCKETS);
  e2e = new Histogram(E2E_BUCKETS);

  countPath(path: string): void {
    this.requests++;
    this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
  }

  finish(reason: string): void {
    this.finished.set(reason, (this.finished.get(reason) ?? 0) + 1);
  }
}
