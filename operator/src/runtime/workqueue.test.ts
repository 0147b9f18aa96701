import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
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

  it('applies the overall token bucket to rate-limited adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ backoff: { baseMs: 1, maxMs: 1 }, qps: 10, burst: 2, clock });
    expect(q.addRateLimited('a')).toBe(1);
    expect(q.addRateLimited('b')).toBe(1);
    expect(q.addRateLimited('c')).toBe(100); // bucket empty: 100 ms per token at 10 qps
    await clock.advance(100);
    expect(q.addRateLimited('d')).toBe(100); // the token of those 100 ms went to c
    await clock.advance(200);
    expect(q.addRateLimited('e')).toBe(1); // refilled
    q.shutDown();
  });

  it('adds a delayed key when its delay has passed, not before', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 50);
    await clock.advance(49);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    q.shutDown();
  });

  it('run() retries a failing key with backoff until it succeeds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ backoff: { baseMs: 5, maxMs: 50 }, clock });
    const calls: number[] = [];
    const succeeded = new Promise<void>((resolve) => {
      void q.run(async (key) => {
        calls.push(clock.now());
        if (calls.length < 3) throw new Error(`fail ${key}`);
        resolve();
      });
    });
    const t0 = clock.now();
    q.add('x');
    await clock.advance(100);
    await succeeded;
    // tried at once, then after 5 ms and 10 ms of backoff
    expect(calls.map((t) => t - t0)).toEqual([0, 5, 15]);
    await clock.advance(0); // run() forgets the key once the handler resolved
    expect(q.retries('x')).toBe(0);
    q.shutDown();
  });

  it('reports how long each key waited from add to get, from its first add while queued', async () => {
    const clock = new FakeClock();
    const waits: [string, number][] = [];
    const q = new WorkQueue({ clock, onWait: (key, seconds) => waits.push([key, seconds]) });
    q.add('a');
    await clock.advance(60);
    q.add('b');
    q.add('a'); // de-duplicated: keeps the first add time
    await clock.advance(15);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(waits).toEqual([
      ['a', 0.075],
      ['b', 0.015],
    ]);
    // a key handed straight to a waiting worker waited 0
    const next = q.get();
    q.add('c');
    expect(await next).toBe('c');
    expect(waits[2]).toEqual(['c', 0]);
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
