/**
 * The metrics reference table of README.md, generated from METRIC_SPECS (a test checks the document
 * holds exactly this table). Print it with `npx tsx proxy/src/telemetry/metrics-doc.ts`.
 */
import { pathToFileURL } from 'node:url';
import { METRIC_SPECS } from './metric-specs.js';

export const TABLE_BEGIN = '<!-- metrics-table:begin (generated: npx tsx proxy/src/telemetry/metrics-doc.ts) -->';
export const TABLE_END = '<!-- metrics-table:end -->';

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown table: name, type, labels, meaning; one row per proxy metric. */
export function metricsReferenceTable(): string {
  const rows = Object.values(METRIC_SPECS).map(
    (s) => `| \`${s.name}\` | ${s.type} | ${s.labelNames.map((l) => `\`${l}\``).join(', ') || '—'} | ${cell(s.help)} |`,
  );
  return ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.stdout.write(`${TABLE_BEGIN}\n${metricsReferenceTable()}\n${TABLE_END}\n`);
