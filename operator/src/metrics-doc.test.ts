import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from './metrics.js';
import { OPERATOR_TABLE_BEGIN, OPERATOR_TABLE_END, operatorMetricsTable } from './metrics-doc.js';

describe('README.md operator metrics reference', () => {
  it('holds exactly the table generated from the operator registry', async () => {
    const doc = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8');
    const begin = doc.indexOf(OPERATOR_TABLE_BEGIN);
    const end = doc.indexOf(OPERATOR_TABLE_END);
    expect(begin, 'table markers').toBeGreaterThan(0);
    const table = doc.slice(begin + OPERATOR_TABLE_BEGIN.length, end).trim();
    expect(table, 'regenerate with: npx tsx operator/src/metrics-doc.ts').toBe(await operatorMetricsTable());
  });

  it('lists every metric with its labels and follows the naming rules', async () => {
    const table = await operatorMetricsTable();
    const metrics = await createOperatorMetrics().registry.getMetricsAsJSON();
    expect(metrics.length).toBeGreaterThan(5);
    for (const m of metrics) {
      expect(m.name).toMatch(/^switchyard_operator_[a-z0-9_]+$/);
      expect(table).toContain(`| \`${m.name}\` |`);
      expect(m.name.endsWith('_total')).toBe(String(m.type) === 'counter');
    }
    expect(table).toContain('| `switchyard_operator_pushes_total` | counter | `proxy`, `result` |');
  });
});
