import { describe, expect, it } from 'vitest';
import { backoffDelay, TokenBucket } from './backoff.js';
import { WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('deduplicates keys that are queued and not yet processed', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands the same key to two workers; a key added while processing comes back after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).toBe(0); // held back while 'a' is processing
    q.done(key as string);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('backs off per key exponentially and forgets after success', () => {
    const q = new WorkQueue({ backoff: { baseMs: 10, maxMs: 1000 }, qps: 1000, burst: 1000 });
    expect(q.addRateLimited('a')).toBe(10);
    expect(q.addRateLimited('a')).toBe(20);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.addRateLimited('b')).toBe(10);
    expect(q.retries('a')).toBe(3);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(10);
    q.shutDown();
  });

  it('applies the overall token bucket to rate-limited adds', () => {
    const q = new WorkQueue({ backoff: { baseMs: 1, maxMs: 1 }, qps: 10, burst: 2 });
    expect(q.addRateLimited('a')).toBe(1);
    expect(q.addRateLimited('b')).toBe(1);
    expect(q.addRateLimited('c')).toBeGreaterThanOrEqual(90); // bucket empty: ~100 ms per token at 10 qps
    q.shutDown();
  });

  it('run() retries a failing key with backoff until it succeeds', async () => {
    const q = new WorkQueue({ backoff: { baseMs: 5, maxMs: 50 } });
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      void q.run(async (key) => {
        calls++;
        if (calls < 3) throw new Error(`fail ${key}`);
        resolve();
      });
    });
    q.add('x');
    await done;
    await new Promise((r) => setTimeout(r, 0)); // let run() record the success
    expect(calls).toBe(3);
    expect(q.retries('x')).toBe(0);
    q.shutDown();
  });

  it('reports how long each key waited from add to get, from its first add while queued', async () => {
    const waits: [string, number][] = [];
    const q = new WorkQueue({ onWait: (key, seconds) => waits.push([key, seconds]) });
    q.add('a');
    await new Promise((r) => setTimeout(r, 60));
    q.add('b');
    q.add('a'); // de-duplicated: keeps the first add time
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(waits.map(([k]) => k)).toEqual(['a', 'b']);
    expect(waits[0]?.[1]).toBeGreaterThanOrEqual(0.05);
    expect(waits[1]?.[1]).toBeLessThan(0.05);
    // a key handed straight to a waiting worker waited ~0
    const next = q.get();
    q.add('c');
    expect(await next).toBe('c');
    expect(waits[2]?.[0]).toBe('c');
    expect(waits[2]?.[1]).toBeLessThan(0.02);
    q.shutDown();
  });

  it('resolves pending get() with undefined on shutdown', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
  });
});

describe('backoff', () => {
  it('doubles from base and caps at max', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 500 }))).toEqual([
      100, 200, 400, 500, 500,
    ]);
  });

  it('token bucket refills at qps', () => {
    let now = 0;
    const b = new TokenBucket(2, 1, () => now);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBe(500);
    now = 2000;
    expect(b.reserve()).toBe(0);
  });
});
