/**
 * Call middleware: stages that wrap the upstream pipeline (auth, rate limits, cache, telemetry), Koa-style.
 * Each may short-circuit by throwing a GatewayError or by writing a response itself and not calling next().
 */
import type { ProxyCall } from './types.js';

export type CallMiddleware = (call: ProxyCall, next: () => Promise<void>) => Promise<void>;

/** Runs `stages` around `inner`. */
export function composeCall(stages: readonly CallMiddleware[], inner: (call: ProxyCall) => Promise<void>) {
  return (call: ProxyCall): Promise<void> => {
    const run = (i: number): Promise<void> => {
      const stage = stages[i];
      return stage ? stage(call, () => run(i + 1)) : inner(call);
    };
    return run(0);
  };
}
