import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { chat, metricValue, postJson } from './helpers.js';
import { startSimulator } from './index.js';
import { PrefixCache } from './kv-cache.js';
import { analyzePrompt } from './tokens.js';

const words = (n: number, salt = '') => Array.from({ length: n }, (_, i) => `w${salt}${i}`).join(' ');

describe('PrefixCache', () => {
  it('chains block hashes: equal prefixes share leading hashes, a change alters every later block', () => {
    const a = analyzePrompt(words(64), 16).blockHashes;
    const b = analyzePrompt(`${words(32)} changed ${words(31)}`, 16).blockHashes;
    expect(a).toHaveLength(4);
    expect(b.slice(0, 2)).toEqual(a.slice(0, 2));
    expect(b[2]).not.toBe(a[2]);
    expect(b[3]).not.toBe(a[3]);
  });

  it('reserves prompt + output blocks, shares cached prefixes and never reports the whole prompt as hit', () => {
    const kv = new PrefixCache(100, 16);
    const p = analyzePrompt(words(64), 16);
    const r1 = kv.reserve(p.blockHashes, 64, 16)!;
    expect(r1.hitTokens).toBe(0);
    expect(kv.held).toBe(5);
    kv.release(r1);
    expect(kv.held).toBe(0);
    expect(kv.cached).toBe(4);
    const r2 = kv.reserve(p.blockHashes, 64, 16)!;
    expect(r2.hitTokens).toBe(48);
    expect(kv.held).toBe(5);
    const longer = analyzePrompt(`${words(64)} ${words(16, 'x')}`, 16);
    const r3 = kv.reserve(longer.blockHashes, 80, 0)!;
    expect(r3.hitTokens).toBe(64);
    expect(kv.held).toBe(6); // 4 shared + 1 new prompt block + r2's private output block
    kv.release(r2);
    kv.release(r3);
    expect(kv.held).toBe(0);
    expect(kv.cached).toBe(5);
  });

  it('refuses a reservation when running requests hold the blocks', () => {
    const kv = new PrefixCache(10, 16);
    const r = kv.reserve(analyzePrompt(words(96), 16).blockHashes, 96, 32)!;
    expect(kv.held).toBe(8);
    expect(kv.reserve(analyzePrompt(words(48, 'b'), 16).blockHashes, 48, 0)).toBeNull();
    kv.release(r);
    expect(kv.reserve(analyzePrompt(words(48, 'b'), 16).blockHashes, 48, 0)).not.toBeNull();
  });

  it('evicts least-recently-used blocks so memory stays bounded by the block budget', () => {
    const kv = new PrefixCache(8, 4);
    const prompts = Array.from({ length: 50 }, (_, i) => analyzePrompt(words(8, `p${i}`), 4));
    for (const p of prompts) {
      kv.release(kv.reserve(p.blockHashes, 8, 0)!);
      expect(kv.held + kv.cached).toBeLessThanOrEqual(8);
    }
    expect(kv.cached).toBe(8);
    // The four most recent prompts are still cached, the older ones were evicted.
    expect(kv.reserve(prompts[49]!.blockHashes, 9, 0)!.hitTokens).toBe(8);
    expect(kv.reserve(prompts[0]!.blockHashes, 9, 0)!.hitTokens).toBe(0);
  });
});

describe('simulator prefix cache', () => {
  it('makes a repeated prompt faster to first token and counts hits in vllm metrics', async () => {
    const sim = await startSimulator({ flavour: 'vllm', prefillMsPerToken: 1 });
    try {
      const prompt = words(400);
      const ttft = async () => {
        const t0 = performance.now();
        const r = await postJson(`${sim.url}/v1/chat/completions`, chat(prompt, { stream: true, max_tokens: 2 }));
        const reader = r.body!.getReader();
        await reader.read();
        const t = performance.now() - t0;
        while (!(await reader.read()).done) {
          // drain
        }
        return t;
      };
      const cold = await ttft();
      const warm = await ttft();
      expect(cold).toBeGreaterThan(390);
      expect(warm).toBeLessThan(cold / 2);
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const queries = metricValue(text, 'vllm:prefix_cache_queries_total{');
      const hits = metricValue(text, 'vllm:prefix_cache_hits_total{');
      expect(queries).toBe(2 * 402); // "user", ":" and 400 words
      expect(hits).toBe(400);
      expect(sim.stats()).toMatchObject({ prefixCacheHits: 400, kvBlocksUsed: 0, kvBlocksCached: 25 });
    } finally {
      await sim.close();
    }
  });

  it('queues requests when free KV blocks run out, even with free slots', async () => {
    const sim = await startSimulator({ flavour: 'vllm', kvBlocks: 10, blockSize: 16, itlMs: 25 });
    try {
      const body = (salt: string) => chat(words(100, salt), { max_tokens: 20 });
      const a = postJson(`${sim.url}/v1/chat/completions`, body('a'));
      await waitFor(() => sim.stats().running === 1);
      const b = postJson(`${sim.url}/v1/chat/completions`, body('b'));
      await waitFor(() => sim.stats().waiting === 1);
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      expect(metricValue(text, 'vllm:kv_cache_usage_perc{')).toBe(0.8);
      expect(metricValue(text, 'vllm:num_requests_running{')).toBe(1);
      expect([(await a).status, (await b).status]).toEqual([200, 200]);
      const tooLong = await postJson(`${sim.url}/v1/chat/completions`, chat(words(200), { max_tokens: 10 }));
      expect(tooLong.status).toBe(400);
      expect(((await tooLong.json()) as { error: { message: string } }).error.message).toMatch(
        /maximum context length is 160 tokens/,
      );
    } finally {
      await sim.close();
    }
  });
});
