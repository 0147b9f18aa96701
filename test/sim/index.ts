/**
 * Upstream simulator: stands in for vLLM, llama.cpp, OpenAI, Anthropic and Ollama servers in tests, the quickstart
 * and benchmarks. See README.md for options, faults and control headers.
 */
import { faultSpecSchema } from './faults.js';
import { flavourDef } from './flavours/index.js';
import { Runtime, resolveOptions } from './runtime.js';
import { SimServer } from './server.js';
import type { Simulator, SimulatorOptions } from './types.js';

export { FLAVOUR_NAMES } from './flavours/index.js';
export type { FaultSpec, Flavour, RecordedRequest, SimStats, SimTiming, Simulator, SimulatorOptions } from './types.js';

/** Starts a simulator and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveOptions(options);
  const rt = new Runtime(opts);
  rt.flavour = flavourDef(opts.flavour);
  rt.startLoading();
  const server = new SimServer(rt, opts.host);
  const port = await server.listen(opts.port);
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    flavour: opts.flavour,
    setFaults: (f) => rt.faults.set(f === null ? null : faultSpecSchema.parse(f)),
    setTiming: (t) => {
      if (t.ttftMs !== undefined) rt.timing.ttftMs = t.ttftMs;
      if (t.itlMs !== undefined) rt.timing.itlMs = t.itlMs;
    },
    setLoading: (b) => rt.setLoading(b),
    stats: () => rt.stats(),
    resetStats: () => rt.resetStats(),
    requests: () => rt.requests(),
    close: () => server.close(opts.shutdownGraceMs),
    kill: () => server.kill(),
    restart: async () => {
      if (server.listening) await server.kill();
      rt.kv?.clear();
      rt.loaded.clear();
      rt.startLoading();
      await server.listen(port);
    },
  };
}
