import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleSum } from './prom-text.js';

const valid = `# HELP a_total Things.
# TYPE a_total counter
a_total{x="1",y="q\\"\\\\\\n"} 3
a_total{x="2"} 4
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} 1
h_seconds_bucket{le="+Inf"} 2
h_seconds_sum 0.7
h_seconds_count 2
`;

describe('parsePrometheusText', () => {
  it('parses families, labels with escapes and histograms', () => {
    const f = parsePrometheusText(valid);
    expect(f.get('a_total')?.type).toBe('counter');
    expect(f.get('a_total')?.samples[0]?.labels.y).toBe('q"\\\n');
    expect(sampleSum(f, 'a_total')).toBe(7);
    expect(sampleSum(f, 'h_seconds_count')).toBe(2);
  });

  it.each([
    ['a duplicate series', 'a 1\na 2\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['a split family', 'a 1\nb 1\na{x="1"} 1\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['a bad value', 'a one\n'],
    ['a bad name', '1a 1\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a count that differs from +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['no trailing newline', 'a 1'],
  ])('rejects %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });

  it('requires # EOF in OpenMetrics and accepts _total samples of a counter family', () => {
    expect(() => parsePrometheusText('# TYPE a counter\na_total 1\n', { openMetrics: true })).toThrow(/EOF/);
    const f = parsePrometheusText('# TYPE a counter\na_total 1\n# EOF\n', { openMetrics: true });
    expect(sampleSum(f, 'a_total')).toBe(1);
  });
});
