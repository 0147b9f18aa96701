import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_SPECS } from './metric-specs.js';
import { metricsReferenceTable, TABLE_BEGIN, TABLE_END } from './metrics-doc.js';

describe('README.md metrics reference', () => {
  it('holds exactly the table generated from the metric specs', async () => {
    const doc = await readFile(join(import.meta.dirname, '../../../README.md'), 'utf8');
    const begin = doc.indexOf(TABLE_BEGIN);
    const end = doc.indexOf(TABLE_END);
    expect(begin, 'table markers').toBeGreaterThan(0);
    const table = doc.slice(begin + TABLE_BEGIN.length, end).trim();
    expect(table, 'regenerate with: npx tsx proxy/src/telemetry/metrics-doc.ts').toBe(metricsReferenceTable());
  });

  it('follows the naming rules: prefix, base units, _total on counters only', () => {
    for (const s of Object.values(METRIC_SPECS)) {
      expect(s.name).toMatch(/^switchyard_[a-z0-9_]+$/);
      expect(s.name.endsWith('_total')).toBe(s.type === 'counter');
      expect(s.name).not.toMatch(/_(ms|milliseconds|minutes|kb|mb)(_|$)/);
      if (s.type === 'histogram') expect(s.name).toMatch(/_seconds$/);
      for (const l of s.labelNames) expect(['api_key', 'key', 'user', 'prompt', 'request_id']).not.toContain(l);
    }
  });
});
