/**
 * One simulator per upstream kind behind one proxy, each the only member of a pool whose public name is its
 * `model`: the set-up of tests that run one client operation over every upstream protocol.
 */
import type { Provider } from '../../shared/src/api/v1alpha1/index.js';
import {
  type Flavour,
  type RecordedRequest,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from './proxy.js';

/** One upstream: the public model name, the simulator flavour, the provider kind and the upstream's model name. */
export interface UpstreamSpec {
  model: string;
  flavour: Flavour;
  provider: Provider;
  upstream: string;
}

/** The running set: simulators by public model name, and the proxy in front of them. */
export interface UpstreamSet {
  proxy: TestProxy;
  sims: Map<string, Simulator>;
  /** The inference requests (POSTs; health checks are GETs) `model`'s upstream received. */
  inference(model: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a simulator per upstream (with `options`) and a proxy serving each as its own pool. */
export async function startUpstreamSet(
  upstreams: readonly UpstreamSpec[],
  options: SimulatorOptions = {},
): Promise<UpstreamSet> {
  const sims = new Map<string, Simulator>();
  for (const u of upstreams)
    sims.set(u.model, await startSimulator({ ...options, flavour: u.flavour, models: [u.upstream] }));
  const manifests = upstreams.map((u) => {
    const url = sims.get(u.model)?.url ?? '';
    return poolManifests({
      name: u.model,
      model: u.model,
      upstreamName: u.upstream,
      provider: u.provider,
      urls: [u.flavour === 'anthropic' || u.flavour === 'ollama' ? url : `${url}/v1`],
    });
  });
  const proxy = await startTestProxy(manifests.join('\n---\n'));
  return {
    proxy,
    sims,
    inference: (model) =>
      sims
        .get(model)
        ?.requests()
        .filter((r) => r.method === 'POST') ?? [],
    async close() {
      await proxy.stop();
      await Promise.all([...sims.values()].map((s) => s.close()));
    },
  };
}
