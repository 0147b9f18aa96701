import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../limits/memory-cache.js';
import type { Operation } from '../protocols/catalog.js';
import { authorizedCall, clientRequest, runtimeOf } from '../testing/calls.js';
import { decodeEntry, encodeEntry } from './entry.js';
import { cacheKeyFor, isDeterministic } from './key.js';

const runtime = runtimeOf(`
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: b }
spec: { provider: vllm, url: "http://127.0.0.1:9/v1", models: [{ name: m }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: m }
spec: { model: m, backendRefs: [{ name: b }] }
`);

const call = (body: object, operation: Operation = 'chat') =>
  authorizedCall(runtime, clientRequest(operation, { model: 'm', ...body }));

describe('cache key', () => {
  const base = { temperature: 0, messages: [{ role: 'user', content: 'hi' }] };

  it('treats only explicit temperature 0 and embeddings as deterministic', () => {
    expect(isDeterministic(call(base))).toBe(true);
    expect(isDeterministic(call({ ...base, temperature: undefined }))).toBe(false);
    expect(isDeterministic(call({ ...base, temperature: 0.2 }))).toBe(false);
    expect(isDeterministic(call({ messages: base.messages, options: { temperature: 0 } }, 'ollama_chat'))).toBe(true);
    expect(isDeterministic(call({ input: 'x' }, 'embeddings'))).toBe(true);
  });

  it('ignores key order and fields that do not change the answer, but not tenant, stream or parameters', () => {
    const k = cacheKeyFor(call(base), 't', 'p:');
    expect(k).toMatch(/^p:c:[0-9a-f]{64}$/);
    const reordered = { messages: base.messages, user: 'u1', temperature: 0, metadata: { trace: 'x' } };
    expect(cacheKeyFor(call(reordered), 't', 'p:')).toBe(k);
    expect(cacheKeyFor(call(base), 'other', 'p:')).not.toBe(k);
    expect(cacheKeyFor(call({ ...base, stream: true }), 't', 'p:')).not.toBe(k);
    expect(cacheKeyFor(call({ ...base, max_tokens: 5 }), 't', 'p:')).not.toBe(k);
  });
});

describe('cache entries', () => {
  it('round-trips content type and body, and rejects unknown data', () => {
    const raw = encodeEntry({ contentType: 'text/event-stream', body: 'data: {"a":"\\n"}\n\n' });
    expect(decodeEntry(raw)).toEqual({ contentType: 'text/event-stream', body: 'data: {"a":"\\n"}\n\n' });
    expect(decodeEntry('garbage')).toBeUndefined();
  });

  it('expires entries and evicts the least recently used beyond its size', () => {
    const m = new MemoryCache(10);
    m.set('a', '12345', 1000, 0);
    m.set('b', '12345', 1000, 0);
    expect(m.get('a', 1)).toBe('12345');
    m.set('c', '12345', 1000, 2);
    expect(m.get('b', 3)).toBeUndefined();
    expect(m.get('a', 3)).toBe('12345');
    expect(m.get('a', 2000)).toBeUndefined();
  });
});
