import { describe, expect, it } from 'vitest';
import { sleep } from '../../shared/src/clock.js';
import { FakeClock } from './clock.js';
import { waitFor } from './wait.js';

describe('FakeClock', () => {
  it('fires timers in time order, each at its own instant, repeating ones every period, cancelled ones never', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    const at = (what: string) => () => fired.push(`${what}@${clock.now() - 1000}`);
    clock.after(30, at('b'));
    clock.after(10, at('a'));
    const tick = clock.every(25, at('tick'));
    clock.after(20, at('x')).cancel();
    clock.after(10, () => clock.after(5, at('nested'))); // scheduled by a timer, due within the span
    await clock.advance(60);
    expect(fired).toEqual(['a@10', 'nested@15', 'tick@25', 'b@30', 'tick@50']);
    expect(clock.now()).toBe(1060);
    tick.cancel();
    expect(clock.pending).toBe(0);
  });

  it('lets promise chains run between timers, so code awaiting in-memory work sees real interleaving', async () => {
    const clock = new FakeClock();
    const steps: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100);
        await Promise.resolve(); // some async work between the waits
        steps.push(clock.now());
      }
    })();
    const start = clock.now();
    await clock.advance(250);
    expect(steps.map((t) => t - start)).toEqual([100, 200]);
    expect(clock.nextIn()).toBe(50);
  });

  it('advanceUntil reports the clock time a condition took and names it when it does not hold', async () => {
    const clock = new FakeClock();
    let done = false;
    clock.after(70, () => {
      done = true;
    });
    expect(await clock.advanceUntil(() => done, 20, 1000)).toBe(80);
    await expect(clock.advanceUntil(() => false, 50, 100, 'the impossible')).rejects.toThrow(
      'the impossible did not hold within 100 ms of clock time',
    );
  });
});

describe('waitFor', () => {
  it('resolves once the check holds and names what it waited for when it never does', async () => {
    let n = 0;
    await waitFor(() => ++n === 3, 1000, 'three polls', 1);
    expect(n).toBe(3);
    await expect(waitFor(() => false, 30, 'nothing', 5)).rejects.toThrow('timed out after 30 ms waiting for nothing');
    await expect(
      waitFor(() => {
        throw new Error('broken check');
      }),
    ).rejects.toThrow('broken check');
  });
});
