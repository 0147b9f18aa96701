/**
 * The operator's metrics reference table in README.md, generated from its registry (a test checks the README holds
 * exactly this table). Print it with `npx tsx operator/src/metrics-doc.ts`.
 */
import { pathToFileURL } from 'node:url';
import { createOperatorMetrics } from './metrics.js';

export const OPERATOR_TABLE_BEGIN =
  '<!-- operator-metrics-table:begin (generated: npx tsx operator/src/metrics-doc.ts) -->';
export const OPERATOR_TABLE_END = '<!-- operator-metrics-table:end -->';

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown table: name, type, labels, meaning; one row per operator metric. */
export async function operatorMetricsTable(): Promise<string> {
  const { registry } = createOperatorMetrics();
  const rows = (await registry.getMetricsAsJSON()).map((m) => {
    const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined;
    const labels = (metric?.labelNames ?? []).map((l) => `\`${l}\``);
    return `| \`${m.name}\` | ${m.type} | ${labels.join(', ') || '—'} | ${cell(m.help)} |`;
  });
  return ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.stdout.write(`${OPERATOR_TABLE_BEGIN}\n${await operatorMetricsTable()}\n${OPERATOR_TABLE_END}\n`);
