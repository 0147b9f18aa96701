/**
 * The chart's monitoring files: the Prometheus rules pass `promtool check rules` and fire as intended under
 * `promtool test rules`; the Grafana dashboard is valid JSON whose every query is valid PromQL (checked by
 * promtool as recording rules) and names only metrics the proxy or the operator export; a real scrape of each passes
 * `promtool check metrics`. promtool comes from
 * Debian's `prometheus` package; without it the promtool checks are skipped (the name checks still run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createOperatorMetrics } from '../../operator/src/metrics.js';
import { METRIC_SPECS } from '../../proxy/src/telemetry/metric-specs.js';
import { MONITORING_API, ofKind, render } from '../chart/helm.js';
import { startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

const FILES = join(import.meta.dirname, '../../charts/switchyard/files');
const RULES_DIR = join(FILES, 'rules');
const DASHBOARDS_DIR = join(FILES, 'dashboards');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

const promtoolAvailable = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0;
if (!promtoolAvailable)
  console.warn(`${PROMTOOL} not found: skipping promtool checks (apt-get install -y prometheus provides it)`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-rules-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const promtool = (...args: string[]) => {
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
};

/** Every metric name the code exports (proxy specs, operator registry), with histogram series suffixes. */
async function knownSeries(): Promise<Set<string>> {
  const names = new Set<string>();
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  };
  for (const s of Object.values(METRIC_SPECS)) add(s.name, s.type);
  for (const m of await createOperatorMetrics().registry.getMetricsAsJSON()) add(m.name, String(m.type));
  return names;
}

/** Metric names a PromQL expression refers to (identifiers of our namespaces). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(switchyard_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map(
    (m) => m[1] as string,
  );
}

async function ruleFiles(): Promise<string[]> {
  return (await readdir(RULES_DIR)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(RULES_DIR, f));
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}

describe('alerting rules', () => {
  it('name only metrics the code exports', async () => {
    const known = await knownSeries();
    for (const file of await ruleFiles()) {
      const rules = (parse(await readFile(file, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) {
        const used = metricsIn(r.expr);
        expect(used.length, `${r.alert ?? r.record} names no metric`).toBeGreaterThan(0);
        for (const m of used) expect(known.has(m), `${r.alert ?? r.record}: unknown metric ${m}`).toBe(true);
      }
    }
  });

  it.skipIf(!promtoolAvailable)('pass promtool check rules', async () => {
    const r = promtool('check', 'rules', ...(await ruleFiles()));
    expect(r.output).toContain('SUCCESS');
    expect(r.ok, r.output).toBe(true);
  });

  it.skipIf(!promtoolAvailable)(
    'pass promtool check rules as rendered by the chart into a PrometheusRule',
    async () => {
      const objects = await render({
        set: ['monitoring.prometheusRule.enabled=true'],
        apiVersions: [MONITORING_API],
      });
      const [rule] = ofKind(objects, 'PrometheusRule');
      const spec = rule?.spec as { groups: unknown[] } | undefined;
      expect(spec?.groups.length).toBeGreaterThan(0);
      const file = join(dir, 'rendered.yaml');
      await writeFile(file, stringify({ groups: spec?.groups }));
      const r = promtool('check', 'rules', file);
      expect(r.ok, r.output).toBe(true);
    },
    300_000,
  );

  it.skipIf(!promtoolAvailable)('fire as intended (promtool test rules)', async () => {
    const tests = join(dir, 'rules.test.yaml');
    await writeFile(tests, RULE_TESTS((await ruleFiles()).map((f) => JSON.stringify(f))));
    const r = promtool('test', 'rules', tests);
    expect(r.ok, r.output).toBe(true);
  });
});

interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; definition?: string }> };
}

async function dashboards(): Promise<Array<[string, Dashboard]>> {
  const files = (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json'));
  return Promise.all(
    files.map(
      async (f) => [f, JSON.parse(await readFile(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard] as [string, Dashboard],
    ),
  );
}

/** A dashboard query with Grafana's variables replaced by values Prometheus accepts. */
const concrete = (expr: string) =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$pool', '.*');

describe('Grafana dashboards', () => {
  it('are valid dashboards whose queries name only metrics the code exports', async () => {
    const known = await knownSeries();
    const all = await dashboards();
    expect(all.length).toBeGreaterThan(0);
    for (const [file, d] of all) {
      expect(d.uid, file).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(d.title, file).toBeTruthy();
      const queries = d.panels
        .filter((p) => p.type !== 'row')
        .flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));
      expect(queries.length, file).toBeGreaterThan(10);
      for (const v of d.templating.list)
        for (const m of metricsIn(v.definition ?? '')) expect(known.has(m), m).toBe(true);
      for (const [title, expr] of queries) {
        const used = metricsIn(expr);
        expect(used.length, `${title} names no metric`).toBeGreaterThan(0);
        for (const m of used) expect(known.has(m), `${file} "${title}": unknown metric ${m}`).toBe(true);
      }
    }
  });

  it.skipIf(!promtoolAvailable)('have queries that are valid PromQL', async () => {
    const rules = (await dashboards()).flatMap(([, d]) =>
      d.panels.flatMap((p) => (p.targets ?? []).map((t) => concrete(t.expr))),
    );
    const file = join(dir, 'dashboard-queries.yaml');
    await writeFile(
      file,
      `groups:\n  - name: dashboard\n    rules:\n${rules.map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e)}\n`).join('')}`,
    );
    const r = promtool('check', 'rules', file);
    expect(r.ok, r.output).toBe(true);
  });
});

/** Unit tests of the alerts for `promtool test rules` (series are per minute). */
const RULE_TESTS = (files: string[]) => `
rule_files: [${files.join(', ')}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'switchyard_requests_total{pool="p",status_class="5xx",instance="a"}'
        values: '0+60x30'
      - series: 'switchyard_requests_total{pool="p",status_class="2xx",instance="a"}'
        values: '0+60x30'
      - series: 'switchyard_requests_total{pool="healthy",status_class="2xx",instance="a"}'
        values: '0+60x30'
    alert_rule_test:
      - eval_time: 15m
        alertname: SwitchyardHighErrorRatio
        exp_alerts:
          - exp_labels: { severity: warning, pool: p }
            exp_annotations:
              summary: "More than 5% of requests to pool p fail with 5xx"
              description: "50% of the requests to pool p answered 5xx over 5 minutes (after retries and fallbacks)."
  - interval: 1m
    input_series:
      - series: 'switchyard_pool_endpoints{pool="down",state="up",instance="a"}'
        values: '0x10'
      - series: 'switchyard_pool_endpoints{pool="down",state="down",instance="a"}'
        values: '2x10'
      - series: 'switchyard_pool_endpoints{pool="down",state="up",instance="b"}'
        values: '0x10'
      - series: 'switchyard_pool_endpoints{pool="down",state="down",instance="b"}'
        values: '2x10'
      - series: 'switchyard_pool_endpoints{pool="partly",state="up",instance="a"}'
        values: '0x10'
      - series: 'switchyard_pool_endpoints{pool="partly",state="down",instance="a"}'
        values: '2x10'
      - series: 'switchyard_pool_endpoints{pool="partly",state="up",instance="b"}'
        values: '1x10'
      - series: 'switchyard_pool_endpoints{pool="partly",state="down",instance="b"}'
        values: '1x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: SwitchyardPoolAllEndpointsDown
        exp_alerts:
          - exp_labels: { severity: critical, pool: down }
            exp_annotations:
              summary: "Every endpoint of pool down is down"
              description: "No proxy sees an endpoint of pool down that may get traffic (all unhealthy or ejected); requests fail unless a fallback pool serves them."
  - interval: 1m
    input_series:
      - series: 'switchyard_endpoint_ejections_total{pool="p",backend="b",endpoint="b/0",instance="a"}'
        values: '0+1x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: SwitchyardEndpointEjections
        exp_alerts:
          - exp_labels: { severity: warning, pool: p, backend: b }
            exp_annotations:
              summary: "Endpoints of backend b are being ejected"
              description: "10 ejections by outlier detection in pool p over 10 minutes: replicas of b fail repeatedly."
  - interval: 1m
    input_series:
      - series: 'switchyard_config_info{version="aaaa",instance="a"}'
        values: '1x30'
      - series: 'switchyard_config_info{version="bbbb",instance="b"}'
        values: '1x30'
    alert_rule_test:
      - eval_time: 5m
        alertname: SwitchyardProxyConfigVersionsDiverge
        exp_alerts: []
      - eval_time: 15m
        alertname: SwitchyardProxyConfigVersionsDiverge
        exp_alerts:
          - exp_labels: { severity: warning }
            exp_annotations:
              summary: "Proxies serve different configuration snapshots"
              description: "2 distinct snapshot versions have been served for 10 minutes: some proxies do not get or refuse the operator's pushes."
  - interval: 1m
    input_series:
      - series: 'switchyard_operator_proxies{state="total",instance="op-0",pod="op-0"}'
        values: '3x30'
      - series: 'switchyard_operator_proxies{state="in_sync",instance="op-0",pod="op-0"}'
        values: '2x30'
      - series: 'switchyard_operator_leader{instance="op-0"}'
        values: '1x30'
    alert_rule_test:
      - eval_time: 15m
        alertname: SwitchyardProxiesOutOfSync
        exp_alerts:
          - exp_labels: { severity: warning }
            exp_annotations:
              summary: "1 proxies do not serve the current snapshot"
              description: "The operator could not bring every proxy to the current configuration for 10 minutes (pushes failing or refused)."
      - eval_time: 15m
        alertname: SwitchyardOperatorNoLeader
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'switchyard_redis_up{instance="a"}'
        values: '1 1 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 5m
        alertname: SwitchyardRedisDown
        exp_alerts:
          - exp_labels: { severity: warning }
            exp_annotations:
              summary: "Proxies cannot reach Redis"
              description: "Rate limits are per replica (fail-open) or requests are refused (fail-closed) while Redis is unreachable."
  - interval: 1m
    input_series:
      - series: 'switchyard_exact_mode_active{backend="ns/gpu",instance="a"}'
        values: '1 1 0 0 0 0 0 0 0 1 1'
      - series: 'switchyard_exact_mode_active{backend="ns/gpu",instance="b"}'
        values: '1x10'
    alert_rule_test:
      - eval_time: 4m
        alertname: SwitchyardExactCapOnShares
        exp_alerts: []
      - eval_time: 8m
        alertname: SwitchyardExactCapOnShares
        exp_alerts:
          - exp_labels: { severity: warning, backend: ns/gpu }
            exp_annotations:
              summary: "Backend ns/gpu keeps per-proxy shares instead of its exact cap"
              description: "maxConcurrencyMode Exact has not applied on some proxies for 5 minutes (no Redis configured, Redis unreachable, or lease calls failing): each keeps its share of maxConcurrency, so an uneven load across proxies no longer fills the replicas."
      - eval_time: 10m
        alertname: SwitchyardExactCapOnShares
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'switchyard_ledger_up{instance="a"}'
        values: '1 1 0 0 0 0 0 0 0 1 1'
      - series: 'switchyard_ledger_up{instance="b"}'
        values: '1x10'
      - series: 'switchyard_ledger_entries_dropped_total{reason="buffer_full",instance="a"}'
        values: '0 0 0 0 0 0 0 20 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40'
    alert_rule_test:
      - eval_time: 4m
        alertname: SwitchyardLedgerDown
        exp_alerts: []
      - eval_time: 8m
        alertname: SwitchyardLedgerDown
        exp_alerts:
          - exp_labels: { severity: warning }
            exp_annotations:
              summary: "1 proxies cannot write the usage ledger"
              description: "Ledger writes to PostgreSQL keep failing: entries wait in each proxy's bounded buffer and are dropped once it is full, and budgets Redis loses cannot be rebuilt meanwhile."
      - eval_time: 10m
        alertname: SwitchyardLedgerDown
        exp_alerts: []
      - eval_time: 5m
        alertname: SwitchyardLedgerEntriesDropped
        exp_alerts: []
      - eval_time: 12m
        alertname: SwitchyardLedgerEntriesDropped
        exp_alerts:
          - exp_labels: { severity: warning }
            exp_annotations:
              summary: "Usage-ledger entries are being lost"
              description: "40 ledger entries dropped over 10 minutes (buffer full while the database was down or slow, batches refused, or left at shutdown): usage, spend and rebuilt budgets undercount."
      - eval_time: 25m
        alertname: SwitchyardLedgerEntriesDropped
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'switchyard_guardrail_decisions_total{guardrail="ns/p/ext",phase="request",action="allow",instance="a"}'
        values: '0+100x20'
      - series: 'switchyard_guardrail_errors_total{guardrail="ns/p/ext",cause="timeout",mode="open",instance="a"}'
        values: '0+10x20'
      - series: 'switchyard_guardrail_decisions_total{guardrail="ns/p/pii",phase="request",action="mask",instance="a"}'
        values: '0+100x20'
      - series: 'switchyard_guardrail_errors_total{guardrail="ns/p/pii",cause="timeout",mode="closed",instance="a"}'
        values: '0+1x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: SwitchyardGuardrailFailing
        exp_alerts:
          - exp_labels: { severity: warning, guardrail: ns/p/ext }
            exp_annotations:
              summary: "Guardrail ns/p/ext fails more than 5% of its checks"
              description: "10% of the checks of ns/p/ext failed over 5 minutes (timeouts, unreachable, saturated or bad answers): a closed guardrail refuses those requests with 503, an open one lets them through unchecked."
`;

describe('metrics exposition', () => {
  it.skipIf(!promtoolAvailable)('passes `promtool check metrics` for the proxy and the operator', async () => {
    const sim = await startSimulator({ flavour: 'vllm', models: ['m'] });
    const proxy = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }));
    try {
      await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
      const res = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
      expect(res.status).toBe(200);
      const proxyText = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      const operatorText = await createOperatorMetrics().registry.metrics();
      for (const [who, text] of [
        ['proxy', proxyText],
        ['operator', operatorText],
      ] as const) {
        const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        // prom-client's own Node gauges `nodejs_active_{handles,requests,resources}_total` draw a naming lint
        // (gauges ending in _total); everything else, all switchyard_* metrics included, must be clean.
        const problems = `${r.stdout}${r.stderr}`
          .split('\n')
          .filter((l) => l.trim() !== '' && !/^nodejs_active_\w+_total non-counter metrics/.test(l));
        expect(problems, `${who}: promtool check metrics`).toEqual([]);
      }
    } finally {
      await proxy.stop();
      await sim.close();
    }
  });
});
