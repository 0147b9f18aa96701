import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import type { LedgerEntry } from './entry.js';
import { LedgerWriter, type LedgerWriterOptions } from './writer.js';

const entry = (n: number): LedgerEntry => ({
  id: `id-${n}`,
  requestId: `req-${n}`,
  startedAt: 0,
  finishedAt: 1,
  surface: 'openai',
  stream: false,
  status: 200,
  attempts: 1,
  inputTokens: 1,
  outputTokens: 1,
  cachedInputTokens: 0,
  usageEstimated: false,
});

/** A connection refused: the database is down (a transient SQLSTATE class). */
const down = Object.assign(new Error('connection refused'), { code: '08006' });

/** A writer on a fake clock and an in-memory database answering with `answer`; `inserts` are the clock instants. */
function writer(answer: () => Promise<unknown>, over: Partial<LedgerWriterOptions> = {}) {
  const clock = new FakeClock(0);
  const inserts: number[] = [];
  const w = new LedgerWriter({
    db: {
      query: () => {
        inserts.push(clock.now());
        return answer();
      },
    },
    log: pino({ level: 'silent' }),
    table: 't',
    prepare: async () => {},
    clock,
    ...over,
  });
  return { clock, inserts, w };
}

describe('ledger writer', () => {
  it('writes an entry one flush interval after it was recorded', async () => {
    const { clock, inserts, w } = writer(async () => ({}));
    w.record(entry(1));
    w.record(entry(2));
    await clock.advance(999);
    expect(inserts).toEqual([]);
    await clock.advance(1);
    expect(inserts).toEqual([1000]);
    expect(w.stats()).toMatchObject({ up: true, buffered: 0, written: 2 });
  });

  it('retries with exponential back-off up to its maximum while the database is down', async () => {
    let up = false;
    const { clock, inserts, w } = writer(async () => {
      if (!up) throw down;
      return {};
    });
    w.record(entry(1));
    await clock.advance(26_000);
    // 1 s interval, then 1, 2, 4, 8 s back-off, capped at 10 s
    expect(inserts).toEqual([1000, 2000, 4000, 8000, 16_000, 26_000]);
    expect(w.stats()).toMatchObject({ up: false, buffered: 1, written: 0 });
    up = true;
    await clock.advance(9999);
    expect(inserts).toHaveLength(6);
    await clock.advance(1);
    expect(inserts).toHaveLength(7);
    expect(w.stats()).toMatchObject({ up: true, buffered: 0, written: 1 });
  });

  it('gives a close its timeout, then drops and counts what is left', async () => {
    const { clock, inserts, w } = writer(() => new Promise(() => {}));
    w.record(entry(1));
    let closed = false;
    void w.close(500).then(() => {
      closed = true;
    });
    await clock.advance(499);
    expect(inserts).toEqual([0]);
    expect(closed).toBe(false);
    await clock.advance(1);
    expect(closed).toBe(true);
    expect(w.stats()).toMatchObject({ buffered: 0, written: 0, dropped: { shutdown: 1 } });
  });
});
