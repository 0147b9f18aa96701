import { describe, expect, it } from 'vitest';
import { poolManifests } from '../../../test/support/manifests.js';
import { parseManifests } from '../manifests/parse.js';
import { proxyConfig } from '../proxyconfig/index.js';
import { translate } from './index.js';

const manifests = (llmAware: string, backendSpec = '') =>
  poolManifests({
    model: 'm',
    urls: ['http://127.0.0.1:8001'],
    name: 'vllm',
    namespace: 'ns',
    backendSpec,
    poolSpec: `  scheduling:\n    strategy: llm-aware\n${llmAware}`,
  });

describe('translate: llm-aware scheduling', () => {
  it('fills the defaults of weights, thresholds and the prefix index, and scrapes vLLM metrics by default', () => {
    const { config, problems } = translate(parseManifests(manifests('')));
    expect(problems).toEqual([]);
    expect(proxyConfig.safeParse(config).success).toBe(true);
    expect(config.pools[0]?.scheduling.llmAware).toEqual({
      weights: { queue: 2, kvCache: 1, inflight: 1, prefix: 3, lora: 1 },
      maxQueueDepth: 8,
      maxKvCacheUsage: 0.9,
      prefixBlockChars: 256,
    });
    expect(config.backends[0]?.metrics).toEqual({
      enabled: true,
      path: '/metrics',
      intervalMs: 250,
      staleAfterMs: 2000,
    });
  });

  it('carries weights, session affinity, the index size and the scrape settings', () => {
    const pool = `    llmAware:
      weights: { prefix: 5, queue: 1 }
      maxQueueDepth: 4
      prefixBlockChars: 128
      sessionHeader: X-Session-Id
      sessionFromUser: true
      prefixIndexEntries: 1000`;
    const backend = '  metrics: { interval: 100ms, staleAfter: 500ms, path: /prom }';
    const { config, problems } = translate(parseManifests(manifests(pool, backend)));
    expect(problems).toEqual([]);
    expect(config.pools[0]?.scheduling.llmAware).toEqual({
      weights: { queue: 1, kvCache: 1, inflight: 1, prefix: 5, lora: 1 },
      maxQueueDepth: 4,
      maxKvCacheUsage: 0.9,
      prefixBlockChars: 128,
      sessionHeader: 'x-session-id',
      sessionFromUser: true,
      prefixIndexEntries: 1000,
    });
    expect(config.backends[0]?.metrics).toEqual({ enabled: true, path: '/prom', intervalMs: 100, staleAfterMs: 500 });
  });
});
