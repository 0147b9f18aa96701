import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { AttemptAbort } from '../upstream/abort.js';
import { UpstreamTransportError } from '../upstream/send.js';
import { AttemptTimers } from './timers.js';

/** Timers on a fake clock and what aborted the attempt (its kind and message), if anything did. */
function start(limits: { firstByteMs: number; idleMs: number; totalMs: number }) {
  const clock = new FakeClock(0);
  const controller = new AttemptAbort();
  const timers = new AttemptTimers(controller, limits, clock);
  const aborted = () => {
    const r = controller.reason;
    return r instanceof UpstreamTransportError ? `${r.failure}: ${r.message}` : undefined;
  };
  return { clock, timers, aborted };
}

describe('attempt timers', () => {
  it('abort at the first-byte limit, not a millisecond before', async () => {
    const { clock, aborted } = start({ firstByteMs: 200, idleMs: 0, totalMs: 0 });
    await clock.advance(199);
    expect(aborted()).toBeUndefined();
    await clock.advance(1);
    expect(aborted()).toBe('timeout: no first byte within the time limit');
  });

  it('measure idleness from the last chunk once the first byte arrived', async () => {
    const { clock, timers, aborted } = start({ firstByteMs: 100, idleMs: 50, totalMs: 0 });
    await clock.advance(90);
    timers.firstByteSeen();
    await clock.advance(40);
    timers.touch();
    // 130 ms in: past the first-byte limit (cancelled), 40 ms into the first idle period, 0 into the second
    await clock.advance(49);
    expect(aborted()).toBeUndefined();
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    expect(aborted()).toBe('timeout: upstream stream idle for too long');
  });

  it('blame the client when a limit runs out while it does not read', async () => {
    const { clock, timers, aborted } = start({ firstByteMs: 0, idleMs: 50, totalMs: 0 });
    timers.firstByteSeen();
    await clock.advance(30);
    timers.clientPaused();
    await clock.advance(49);
    expect(aborted()).toBeUndefined();
    await clock.advance(1);
    expect(aborted()).toBe('aborted: the client stopped reading the answer');
  });

  it('end at the total limit however busy the stream, and cancel everything on clear', async () => {
    const busy = start({ firstByteMs: 0, idleMs: 50, totalMs: 120 });
    busy.timers.firstByteSeen();
    for (let t = 0; t < 119; t += 17) {
      await busy.clock.advance(17);
      busy.timers.touch();
    }
    expect(busy.aborted()).toBeUndefined();
    await busy.clock.advance(1);
    expect(busy.aborted()).toBe('timeout: upstream exceeded its total time limit');

    const done = start({ firstByteMs: 10, idleMs: 10, totalMs: 10 });
    done.timers.firstByteSeen();
    done.timers.clear();
    expect(done.clock.pending).toBe(0);
  });
});
