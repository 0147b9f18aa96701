/**
 * The chart as a package: `helm lint`, the CRD copies equal the generated crds/, values.yaml documents every value,
 * values.schema.json rejects unknown keys everywhere, and the files/ dropped in by the observability work become
 * dashboards ConfigMaps and a PrometheusRule.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { ALL_FEATURES, CHART, chartCopyWith, find, helm, MONITORING_API, ofKind, ROOT, render } from './helm.js';

const FIRST_BUILD = 60 * 60_000;

/** Schema paths whose content is a Kubernetes type passed through as is (the apiserver validates it). */
const PASS_THROUGH = [
  'podSecurityContext',
  'containerSecurityContext',
  'global',
  ...['proxy', 'operator'].flatMap((c) => [`${c}.tolerations[]`, `${c}.affinity`, `${c}.extraEnv[]`]),
  'networkPolicy.trafficFrom[]',
  'networkPolicy.metricsFrom[]',
];

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
}

function objectSchemas(s: Schema, path: string, out: [string, Schema][] = []): [string, Schema][] {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('object')) out.push([path, s]);
  for (const [k, v] of Object.entries(s.properties ?? {})) objectSchemas(v, path ? `${path}.${k}` : k, out);
  if (s.items) objectSchemas(s.items, `${path}[]`, out);
  if (typeof s.additionalProperties === 'object') objectSchemas(s.additionalProperties, `${path}.*`, out);
  return out;
}

/** Comment directly above each key of `map` (the first key's comment belongs to the map node). */
const keyComment = (map: YAMLMap, i: number): string => {
  const key = map.items[i]?.key;
  const own = isScalar(key) ? (key.commentBefore ?? '') : '';
  return own.trim() || (i === 0 ? (map.commentBefore ?? '').trim() : '');
};

/**
 * Keys of values.yaml without a comment. A map whose keys carry comments is a section and is checked key by key;
 * any other value (scalar, list, map such as `resources`) needs a comment on its own key.
 */
function undocumented(map: YAMLMap, path: string, out: string[] = []): string[] {
  map.items.forEach((pair, i) => {
    const here = path ? `${path}.${String((pair.key as { value: unknown }).value)}` : String(pair.key);
    const value = pair.value;
    const isSection = isMap(value) && value.items.some((_, j) => keyComment(value, j) !== '');
    if (isSection) undocumented(value, here, out);
    else if (!keyComment(map, i)) out.push(here);
  });
  return out;
}

function valueKeys(map: YAMLMap, path: string, out: Set<string> = new Set()): Set<string> {
  for (const pair of map.items) {
    const here = path ? `${path}.${String((pair.key as { value: unknown }).value)}` : String(pair.key);
    out.add(here);
    if (isMap(pair.value)) valueKeys(pair.value, here, out);
    else if (isSeq(pair.value)) out.add(`${here}[]`);
  }
  return out;
}

describe('chart package', () => {
  it(
    'passes helm lint --strict with defaults and with every optional feature on',
    async () => {
      const plain = await helm(['lint', '--strict', CHART]);
      expect(plain.code, plain.stdout + plain.stderr).toBe(0);
      const all = await helm(['lint', '--strict', CHART, '--values', ALL_FEATURES]);
      expect(all.code, all.stdout + all.stderr).toBe(0);
    },
    FIRST_BUILD,
  );

  it('ships CRDs identical to the generated crds/*.yaml (fix: npx tsx scripts/generate-crds.ts)', async () => {
    const generated = (await readdir(join(ROOT, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
    const shipped = (await readdir(join(CHART, 'crds'))).sort();
    expect(shipped).toEqual(generated);
    for (const f of generated) {
      const a = await readFile(join(ROOT, 'crds', f), 'utf8');
      expect(await readFile(join(CHART, 'crds', f), 'utf8'), f).toBe(a);
    }
  });

  it('documents every value in values.yaml', async () => {
    const doc = parseDocument(await readFile(join(CHART, 'values.yaml'), 'utf8'));
    expect(undocumented(doc.contents as YAMLMap, '')).toEqual([]);
  });

  it('has a schema with additionalProperties false on every object but the Kubernetes pass-throughs', async () => {
    const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
    const open: string[] = [];
    for (const [path, s] of objectSchemas(schema, '')) {
      if (s.additionalProperties === undefined) open.push(`${path} (unset)`);
      else if (s.additionalProperties === true) open.push(path);
    }
    expect(open.sort()).toEqual([...PASS_THROUGH].sort());
    const doc = parseDocument(await readFile(join(CHART, 'values.yaml'), 'utf8'));
    const keys = valueKeys(doc.contents as YAMLMap, '');
    const described = objectSchemas(schema, '').flatMap(([p, s]) =>
      Object.keys(s.properties ?? {}).map((k) => (p ? `${p}.${k}` : k)),
    );
    // every schema property has a (documented) default in values.yaml; resource quantities are optional
    const missing = described.filter((p) => !keys.has(p) && !/\[\]|^global|\.(requests|limits)\./.test(p));
    expect(missing).toEqual([]);
  });

  it('rejects unknown and mistyped values', async () => {
    for (const set of ['bogus=1', 'proxy.bogus=1', 'proxy.service.bogus=1', 'monitoring.dashboards.x=1']) {
      await expect(render({ set: [set] }), set).rejects.toThrow(/additional properties/);
    }
    await expect(render({ set: ['proxy.replicas=many'] })).rejects.toThrow(/want integer/);
    // The proxy keeps ledger entries at least 32 days: monthly budgets are rebuilt from them.
    await expect(render({ set: ['ledger.retentionDays=7'] })).rejects.toThrow(
      /retentionDays.*minimum: (got 7, want )?32/,
    );
    await expect(render({ set: ['operator.resyncInterval=soon'] })).rejects.toThrow(/resyncInterval/);
    await expect(render({ set: ['operator.pushTimeout=5'] })).rejects.toThrow(/pushTimeout/);
    await expect(render({ set: ['operator.pushTimeout=0s'] })).rejects.toThrow(
      /operator.pushTimeout \(0s\) must be longer than 0 and at most 596h/,
    );
    await expect(render({ set: ['operator.resyncInterval=600h'] })).rejects.toThrow(/resyncInterval \(600h\)/);
  });

  it('refuses leader-election timings the operator would refuse: lease > renew deadline > retry period', async () => {
    const le = (lease: string, renew: string, retry: string) =>
      render({
        set: [
          `operator.leaderElection.leaseDuration=${lease}`,
          `operator.leaderElection.renewDeadline=${renew}`,
          `operator.leaderElection.retryPeriod=${retry}`,
        ],
      });
    await expect(le('5s', '10s', '2s')).rejects.toThrow(
      /leaseDuration \(5s\) must be longer than renewDeadline \(10s\)/,
    );
    await expect(le('1m', '1m', '2s')).rejects.toThrow(/leaseDuration \(1m\) must be longer than renewDeadline/);
    await expect(le('15s', '1500ms', '1.5s')).rejects.toThrow(
      /renewDeadline \(1500ms\) must be longer than retryPeriod \(1.5s\)/,
    );
    await expect(le('1m30s', '1m', '2500ms')).resolves.toBeDefined();
  });
});

describe('observability files', () => {
  const dashboard = JSON.stringify({ title: 'Switchyard test', panels: [] });
  const rules =
    'groups:\n  - name: switchyard-test\n    rules:\n      - alert: SwitchyardTest\n        expr: vector(1)\n';

  it('turns files/dashboards/*.json into ConfigMaps for the Grafana sidecar, only when enabled', async () => {
    const chart = await chartCopyWith({ 'files/dashboards/test_overview.json': dashboard });
    const on = await render({ chart, set: ['monitoring.dashboards.enabled=true'] });
    const cm = find(on, 'ConfigMap', 'sy-dashboard-test-overview');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse((cm.data as Record<string, string>)['test_overview.json'] ?? '')).toEqual(JSON.parse(dashboard));
    expect(ofKind(await render({ chart }), 'ConfigMap')).toEqual([]);
  });

  it('merges files/rules/*.yaml into one PrometheusRule, only when enabled and the API exists', async () => {
    const chart = await chartCopyWith({ 'files/rules/test.yaml': rules });
    const set = ['monitoring.prometheusRule.enabled=true'];
    const on = await render({ chart, set, apiVersions: [MONITORING_API] });
    const rule = find(on, 'PrometheusRule', 'sy');
    expect((rule.spec as { groups: { name: string }[] }).groups.map((g) => g.name)).toContain('switchyard-test');
    expect(ofKind(await render({ chart, set }), 'PrometheusRule')).toEqual([]);
    expect(ofKind(await render({ chart, apiVersions: [MONITORING_API] }), 'PrometheusRule')).toEqual([]);
  });
});
