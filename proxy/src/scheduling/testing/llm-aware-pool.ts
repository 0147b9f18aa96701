/** Test and benchmark fixture: an llm-aware pool config and members with metrics scraping on. Not used by the proxy. */
import type { BackendConfig, PoolConfig } from '../../../../shared/src/proxyconfig/index.js';
import type { PoolMember } from '../../endpoints/member.js';
import type { LlmAwareConfig } from '../llm-aware/scorers.js';
import { fakeBackend, fakeMembers } from './members.js';

/** A pool using the llm-aware strategy with the default weights (block size 16 characters unless given). */
export function llmAwarePool(llmAware: Partial<LlmAwareConfig> = {}, id = 'ns/pool'): PoolConfig {
  return {
    id,
    model: 'm',
    aliases: [],
    targets: [],
    scheduling: {
      strategy: 'llm-aware',
      queue: { maxSize: 0, timeoutMs: 0 },
      llmAware: {
        weights: { queue: 2, kvCache: 1, inflight: 1, prefix: 3, lora: 1 },
        maxQueueDepth: 8,
        maxKvCacheUsage: 0.9,
        prefixBlockChars: 16,
        ...llmAware,
      },
    },
    retry: {
      attempts: 1,
      retryOn: [],
      backoff: { baseMs: 0, maxMs: 0 },
      maxRetryAfterMs: 0,
      budget: { ratio: 0, minPerSecond: 0 },
    },
    outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 0, maxEjectionMs: 0, maxEjectionPercent: 0 },
  };
}

/** A vLLM backend whose scraped metrics go stale after `staleAfterMs`. */
export function scrapedBackend(staleAfterMs = 2000): BackendConfig {
  return { ...fakeBackend('ns/vllm'), metrics: { enabled: true, path: '/metrics', intervalMs: 250, staleAfterMs } };
}

/** `n` members of weight 1 on a scraped backend. */
export function scrapedMembers(n: number, staleAfterMs = 2000): PoolMember[] {
  return fakeMembers(
    Array.from({ length: n }, () => 1),
    scrapedBackend(staleAfterMs),
  );
}
