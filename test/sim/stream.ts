/**
 * Timing and delivery of generated answers: time to first token (queue + prefill + ttft), one token step every
 * inter-token latency, backpressure, stream faults, and the counters/histograms updated at the end.
 * With zero latency and no fault a whole stream is written at once (the benchmark hot path).
 */
import type { Exchange } from './exchange.js';
import type { Generation } from './generation.js';

/** Protocol frames of one streamed answer; `step(i)` holds token step i of every choice. */
export interface FramePlan {
  steps: number;
  /** Frames written together with step 0 (role chunk, `message_start`, …). */
  head(): string;
  step(i: number): string;
  /** Normal end (finish chunk, usage, `[DONE]`, `message_stop`, `done:true`). */
  tail(): string;
  /** In-stream error event (the `midStreamError` fault). */
  error(): string;
}

/** Sends stream headers now (no-op if already sent). */
export function startStream(ex: Exchange, contentType: string): void {
  if (ex.res.headersSent || ex.gone) return;
  const f = ex.rt.flavour;
  ex.res.writeHead(200, {
    ...f.baseHeaders,
    ...f.answerHeaders?.(),
    'content-type': contentType,
    'cache-control': 'no-cache',
  });
  ex.res.flushHeaders();
}

type Outcome = 'done' | 'gone' | 'fault';

/** Streams `frames` with the generation's timing and the exchange's fault. */
export async function runStream(ex: Exchange, gen: Generation, contentType: string, frames: FramePlan): Promise<void> {
  let outcome: Outcome = 'gone';
  try {
    outcome = await streamFrames(ex, gen, contentType, frames);
  } finally {
    settle(ex, gen, outcome, frames.steps, true);
  }
}

async function streamFrames(ex: Exchange, gen: Generation, contentType: string, f: FramePlan): Promise<Outcome> {
  const { rt, res } = ex;
  startStream(ex, contentType);
  const delay = gen.lease.prefillMs + rt.timing.ttftMs;
  if (delay > 0 && !(await ex.sleep(delay))) return 'gone';
  if (ex.gone) return 'gone';
  const n = f.steps;
  const fault = ex.fault;
  if (!fault && rt.itl() <= 0) {
    let s = f.head();
    for (let i = 0; i < n; i++) s += f.step(i);
    markFirst(ex, gen);
    gen.lease.decoded = n;
    res.end(s + f.tail());
    return 'done';
  }
  const cut = fault ? faultStep(ex, n) : -1;
  let pending = f.head();
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const d = rt.itl();
      if (d > 0 && !(await ex.sleep(d))) return 'gone';
    }
    if (i === cut) return applyFault(ex, pending, f);
    pending += f.step(i);
    if (i === 0) markFirst(ex, gen);
    const ok = await ex.write(pending);
    pending = '';
    gen.lease.decoded = i + 1;
    if (!ok) return 'gone';
  }
  if (cut >= n) return applyFault(ex, pending, f);
  if (n === 0) markFirst(ex, gen);
  res.end(pending + f.tail());
  return 'done';
}

/** Step before which the stream fault strikes. */
function faultStep(ex: Exchange, n: number): number {
  const f = ex.fault!;
  if (f.resetAfterChunks !== undefined) return Math.min(f.resetAfterChunks, n);
  if (f.midStreamError) return Math.min(f.afterChunks ?? 1, n);
  if (f.closeWithoutDone) return Math.min(f.afterChunks ?? n, n);
  return -1;
}

async function applyFault(ex: Exchange, pending: string, f: FramePlan): Promise<Outcome> {
  const fault = ex.fault!;
  if (fault.resetAfterChunks !== undefined) {
    // Let what was written reach the client before the reset, so it sees exactly n chunks then an error.
    const socket = ex.req.socket;
    if (socket.writableLength > 0 && !ex.gone) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
    if (!(await ex.sleep(5))) return 'gone';
    ex.reset();
  } else if (fault.midStreamError) ex.endByServer(pending + f.error());
  else ex.endByServer(pending);
  return 'fault';
}

function markFirst(ex: Exchange, gen: Generation): void {
  ex.firstByteAt = performance.now();
  ex.rt.counters.ttft.observe((ex.firstByteAt - ex.start) / 1000);
  ex.rt.counters.promptSeconds += (gen.lease.prefillMs + ex.rt.timing.ttftMs) / 1000;
}

/** Answers a non-streaming request after the whole generation time. */
export async function runUnary(ex: Exchange, gen: Generation, body: () => string): Promise<void> {
  let outcome: Outcome = 'gone';
  try {
    outcome = await unary(ex, gen, body);
  } finally {
    settle(ex, gen, outcome, gen.longestTokens, false);
  }
}

async function unary(ex: Exchange, gen: Generation, body: () => string): Promise<Outcome> {
  const rt = ex.rt;
  const first = gen.lease.prefillMs + rt.timing.ttftMs;
  if (first > 0 && !(await ex.sleep(first))) return 'gone';
  markFirst(ex, gen);
  const rest = Math.max(0, gen.longestTokens - 1) * rt.itl();
  if (rest > 0 && !(await ex.sleep(rest))) return 'gone';
  if (ex.gone) return 'gone';
  gen.lease.decoded = gen.longestTokens;
  const fault = ex.fault;
  if (fault?.resetAfterChunks !== undefined) {
    ex.reset();
    return 'fault';
  }
  if (fault?.midStreamError) {
    ex.error(rt.flavour.overloadStatus === 529 ? 529 : 500);
    return 'fault';
  }
  const text = body();
  if (fault?.closeWithoutDone) {
    ex.res.writeHead(200, { ...rt.flavour.baseHeaders, 'content-type': rt.flavour.jsonType });
    ex.endByServer(text.slice(0, Math.floor(text.length / 2)));
    return 'fault';
  }
  ex.send(200, text, rt.flavour.jsonType);
  return 'done';
}

function settle(ex: Exchange, gen: Generation, outcome: Outcome, steps: number, streamed: boolean): void {
  const c = ex.rt.counters;
  const lease = gen.lease;
  const done = outcome === 'done';
  const sent = done ? gen.outputTokens : Math.round((gen.outputTokens * lease.decoded) / Math.max(1, steps));
  c.tokensOut += sent;
  c.longestSequence = Math.max(c.longestSequence, lease.job.promptTokens + sent);
  // Every request ran alongside the others in its slot batch: busy slots summed over its decode steps.
  c.busySlotSteps += sent * Math.max(1, ex.rt.engine.running);
  const end = performance.now();
  if (ex.firstByteAt > 0) c.decodeSeconds += (end - ex.firstByteAt) / 1000;
  if (done) {
    const plan = gen.plans[0];
    c.finish(plan?.kind === 'text' ? plan.finish : 'stop');
    c.e2e.observe((end - ex.start) / 1000);
  } else c.finish(outcome === 'gone' ? 'abort' : 'error');
  // `send()` already counted unary answers.
  if (done && streamed) c.completed++;
  lease.release();
}
