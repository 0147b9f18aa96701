import { describe, expect, it } from 'vitest';
import { scrapedMembers } from '../scheduling/testing/llm-aware-pool.js';
import { freshServerLoad, recordServerLoad } from './load.js';

describe('freshServerLoad', () => {
  it('returns only readings younger than staleAfter, and nothing when scraping is off', () => {
    const e = (scrapedMembers(1, 500)[0] as { endpoint: Parameters<typeof freshServerLoad>[0] }).endpoint;
    const now = Date.now();
    recordServerLoad(e, 'metrics', { waiting: 3 }, now - 400);
    expect(freshServerLoad(e, now)?.waiting).toBe(3);
    expect(freshServerLoad(e, now + 200)).toBeUndefined();
    e.backend = { ...e.backend, metrics: { enabled: false, path: '/metrics', intervalMs: 250, staleAfterMs: 500 } };
    expect(freshServerLoad(e, now)).toBeUndefined();
  });

  it('takes the running count from /slots when it is newer than /metrics', () => {
    const e = (scrapedMembers(1, 5000)[0] as { endpoint: Parameters<typeof freshServerLoad>[0] }).endpoint;
    const now = Date.now();
    recordServerLoad(e, 'metrics', { running: 0, waiting: 2 }, now - 1000);
    recordServerLoad(e, 'slots', { slots: { total: 4, processing: 3 } }, now);
    expect(freshServerLoad(e, now)).toMatchObject({ running: 3, waiting: 2, slots: { total: 4, processing: 3 } });
    recordServerLoad(e, 'metrics', { running: 1, waiting: 0 }, now + 10);
    expect(freshServerLoad(e, now + 10)).toMatchObject({ running: 1, waiting: 0 });
  });
});
