import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { translate } from '../../../shared/src/translate/index.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { parsePrometheusText, sampleSum } from '../../../test/support/prom-text.js';
import { SnapshotStore } from '../config/store.js';
import { FastCounter, FastHistogram, keepCounterNames } from './fast-metrics.js';
import { createProxyMetrics } from './metrics.js';

const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

function setup() {
  const registry = new Registry();
  const c = new FastCounter({ name: 'a_total', type: 'counter', help: 'A.', labelNames: ['x', 'y'] }, registry);
  const h = new FastHistogram(
    { name: 'h_seconds', type: 'histogram', help: 'H.', labelNames: ['x'], buckets: [0.1, 1] },
    registry,
  );
  new Counter({ name: 'p_total', help: 'P.', registers: [registry] }).inc(2);
  keepCounterNames(registry);
  return { registry, c, h };
}

describe('fast metrics', () => {
  it('export counters and cumulative histograms in the text format', async () => {
    const { registry, c, h } = setup();
    c.child('1', 'q"').inc();
    c.child('1', 'q"').inc(2);
    for (const v of [0.05, 0.1, 0.5, 3]) h.child('k').observe(v);
    const f = parsePrometheusText(await registry.metrics());
    expect(sampleSum(f, 'a_total', { x: '1', y: 'q"' })).toBe(3);
    expect(sampleSum(f, 'h_seconds_bucket', { le: '0.1' })).toBe(2);
    expect(sampleSum(f, 'h_seconds_bucket', { le: '1' })).toBe(3);
    expect(sampleSum(f, 'h_seconds_bucket', { le: '+Inf' })).toBe(4);
    expect(sampleSum(f, 'h_seconds_sum')).toBeCloseTo(3.65);
  });

  it('keep _total in text scrapes after an OpenMetrics scrape', async () => {
    const { registry, c } = setup();
    c.child('1', '2').inc();
    registry.setContentType(OM as never);
    const om = parsePrometheusText(await registry.metrics(), { openMetrics: true });
    expect(om.get('a')?.type).toBe('counter');
    expect(om.get('p')?.type).toBe('counter');
    registry.setContentType(TEXT as never);
    const text = parsePrometheusText(await registry.metrics());
    expect(sampleSum(text, 'a_total')).toBe(1);
    expect(sampleSum(text, 'p_total')).toBe(2);
  });

  it('drop the series of endpoints that left the snapshot', async () => {
    const registry = new Registry();
    const store = new SnapshotStore();
    const snapshot = (urls: string[]) =>
      translate(parseManifests(poolManifests({ name: 'b', model: 'm', urls }))).config;
    const m = createProxyMetrics(registry, store);
    store.apply(snapshot(['http://127.0.0.1:1/v1', 'http://127.0.0.1:2/v1']));
    for (const e of store.current?.endpoints.values() ?? []) {
      m.ejections.child('default/b-pool', e.backend.id, e.id).inc();
      m.healthTransitions.child(e.backend.id, e.id, 'unhealthy').inc();
    }
    const series = async (name: string) =>
      parsePrometheusText(await registry.metrics())
        .get(name)
        ?.samples.map((x) => x.labels.endpoint) ?? [];
    expect(await series('switchyard_endpoint_ejections_total')).toEqual(['b/0', 'b/1']);
    store.apply(snapshot(['http://127.0.0.1:1/v1']));
    expect(await series('switchyard_endpoint_ejections_total')).toEqual(['b/0']);
    expect(await series('switchyard_endpoint_health_transitions_total')).toEqual(['b/0']);
  });
});
