/**
 * The chart against a real kube-apiserver (test control plane, RBAC on, no kubelet so pods never run): every
 * rendered object passes a strict server-side dry run (the monitors against the real Prometheus Operator CRDs, see
 * monitoring-crds.ts), `helm install` and `helm upgrade` succeed (the push token survives
 * the upgrade), and the RBAC it grants is what the operator needs and no more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { ALL_FEATURES, CHART, chartCopyWith, helm, MONITORING_API, templateArgs } from './helm.js';
import { prometheusOperatorCrds } from './monitoring-crds.js';

const FIRST_BUILD = 60 * 60_000;
const NS = 'switchyard';

let cp: ControlPlane;

async function ok(what: string, run: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const res = await run;
  expect(res.code, `${what}: ${res.stderr}${res.stdout.slice(0, 2000)}`).toBe(0);
  return res.stdout;
}

/** `kubectl auth can-i` as a ServiceAccount (impersonated by the admin). */
async function can(sa: string, ...args: string[]): Promise<boolean> {
  const res = await cp.kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${sa}`]);
  return res.stdout.trim() === 'yes';
}

beforeAll(async () => {
  cp = await startControlPlane();
  await ok('crds', cp.kubectl(['apply', '--server-side', '-f', `${CHART}/crds`]));
  // The real Prometheus Operator CRDs, so a wrong field in a monitor fails the dry run (strict validation).
  await ok(
    'monitoring crds',
    cp.kubectl(['apply', '--server-side', '-f', '-'], { input: await prometheusOperatorCrds() }),
  );
  await ok('crds established', cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']));
  for (const ns of [NS, 'models', 'team', 'other']) await ok(`namespace ${ns}`, cp.kubectl(['create', 'ns', ns]));
}, FIRST_BUILD);

afterAll(async () => {
  await cp?.stop();
});

describe('chart on a real apiserver', () => {
  it('passes a server-side dry run of every object, with defaults and with every feature on', async () => {
    // a copy of the chart with one more rule file and dashboard, so a PrometheusRule is always among the objects
    const chart = await chartCopyWith({
      'files/rules/zz-test.yaml': 'groups: [{name: t, rules: [{alert: T, expr: vector(1)}]}]\n',
      'files/dashboards/zz-test.json': '{"title": "t"}',
    });
    for (const extra of [[], ['--values', ALL_FEATURES, '--api-versions', MONITORING_API]]) {
      const rendered = await helm([...templateArgs({ namespace: NS, chart }), ...extra]);
      expect(rendered.code, rendered.stderr).toBe(0);
      const out = await ok(
        `dry run ${extra.join(' ')}`,
        cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered.stdout }),
      );
      expect(out).toMatch(/deployment.apps\/sy created \(server dry run\)/);
      expect(out).toMatch(/deployment.apps\/sy-operator created \(server dry run\)/);
      if (extra.length) {
        expect(out).toMatch(/servicemonitor.monitoring.coreos.com\/sy-proxy created/);
        expect(out).toMatch(/prometheusrule.monitoring.coreos.com\/sy created/);
        expect(out).toMatch(/configmap\/sy-dashboard-zz-test created/);
        expect(out).toMatch(/role.rbac.authorization.k8s.io\/sy-operator created/);
      }
    }
  });

  it('renders PodMonitors that pass a strict server-side dry run against the real CRD', async () => {
    const rendered = await helm([
      ...templateArgs({ namespace: NS }),
      '--api-versions',
      MONITORING_API,
      '--set',
      'monitoring.podMonitor.enabled=true',
    ]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const out = await ok(
      'podmonitor dry run',
      cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered.stdout }),
    );
    expect(out).toMatch(/podmonitor.monitoring.coreos.com\/\S+ created \(server dry run\)/);
    // A typo in a monitor's spec is refused by the real schema (the stand-in CRDs accepted anything).
    const typo = rendered.stdout.replace(/podMetricsEndpoints:/, 'podMetricEndpoints:');
    expect(typo).not.toBe(rendered.stdout);
    const refused = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: typo });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('podMetricEndpoints');
  });

  it('installs with helm, prints the Service URL, and keeps the push token across upgrades', async () => {
    const install = await ok('install', cp.helm(['install', 'sy', CHART, '-n', NS, '--wait=false']));
    expect(install).toContain('http://sy.switchyard.svc:8080/v1');
    const objects = await ok(
      'get',
      cp.kubectl(['get', 'deploy,svc,sa,secret,pdb,role,rolebinding', '-n', NS, '-o', 'name']),
    );
    for (const name of ['deployment.apps/sy', 'deployment.apps/sy-operator', 'service/sy-proxy-pods']) {
      expect(objects).toContain(name);
    }
    // the helm test Pod is a hook: not created by install
    expect((await cp.kubectl(['get', 'pod', 'sy-test-proxy', '-n', NS])).code).not.toBe(0);
    const tokenOf = () =>
      ok('token', cp.kubectl(['get', 'secret', 'sy-push-token', '-n', NS, '-o=jsonpath={.data.token}']));
    const before = await tokenOf();
    expect(Buffer.from(before, 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
    await ok('upgrade', cp.helm(['upgrade', 'sy', CHART, '-n', NS, '--wait=false', '--set', 'proxy.replicas=3']));
    expect(await tokenOf()).toBe(before);
    const replicas = await cp.kubectl(['get', 'deploy', 'sy', '-n', NS, '-o=jsonpath={.spec.replicas}']);
    expect(replicas.stdout).toBe('3');
  });

  it('grants the operator exactly the verbs it sends, cluster-wide by default', async () => {
    const op = `${NS}:sy-operator`;
    // informers: list + watch; status writes: PUT /status, and GET of the object after a 409; events: POST;
    // leader election: GET/POST/PUT of its Lease
    for (const verb of ['list', 'watch']) {
      for (const r of ['endpointslices.discovery.k8s.io', 'services']) {
        expect(await can(op, verb, r, '-n', 'other'), `${verb} ${r}`).toBe(true);
      }
    }
    // referenced Secrets are read by name; listing or watching them would expose every Secret's data
    expect(await can(op, 'get', 'secrets', '-n', 'other')).toBe(true);
    for (const verb of ['get', 'list', 'watch']) {
      for (const r of ['llmbackends', 'llmpools', 'routepolicies']) {
        expect(await can(op, verb, `${r}.switchyard.dev`, '-A'), `${verb} ${r}`).toBe(true);
      }
    }
    for (const r of ['llmbackends', 'llmpools', 'routepolicies']) {
      expect(await can(op, 'update', `${r}.switchyard.dev`, '--subresource=status', '-n', 'other'), r).toBe(true);
    }
    expect(await can(op, 'create', 'events', '-n', 'other')).toBe(true);
    expect(await can(op, 'create', 'leases.coordination.k8s.io', '-n', NS)).toBe(true);
    expect(await can(op, 'get', 'leases.coordination.k8s.io/sy-operator', '-n', NS)).toBe(true);
    expect(await can(op, 'update', 'leases.coordination.k8s.io/sy-operator', '-n', NS)).toBe(true);
    const denied: string[][] = [
      // verbs the operator never sends
      ['patch', 'llmbackends.switchyard.dev', '--subresource=status', '-n', 'other'],
      ['patch', 'llmpools.switchyard.dev', '--subresource=status', '-n', 'other'],
      ['get', 'routepolicies.switchyard.dev', '--subresource=status', '-n', 'other'],
      ['patch', 'events', '-n', 'other'],
      ['update', 'events', '-n', 'other'],
      ['create', 'events.events.k8s.io', '-n', 'other'],
      ['list', 'secrets', '-n', 'other'],
      ['watch', 'secrets', '-n', 'other'],
      ['list', 'secrets', '-A'],
      ['get', 'services', '-n', 'other'],
      ['get', 'endpointslices.discovery.k8s.io', '-n', 'other'],
      ['patch', 'leases.coordination.k8s.io/sy-operator', '-n', NS],
      ['delete', 'leases.coordination.k8s.io/sy-operator', '-n', NS],
      ['update', 'llmpools.switchyard.dev', '-n', 'other'],
      ['delete', 'llmbackends.switchyard.dev', '-n', 'other'],
      ['create', 'routepolicies.switchyard.dev', '-n', 'other'],
      ['delete', 'pods', '-n', NS],
      ['create', 'pods', '-n', NS],
      ['get', 'configmaps', '-n', NS],
      ['create', 'secrets', '-n', NS],
      ['update', 'secrets', '-n', 'other'],
      ['update', 'services', '-n', 'other'],
      ['update', 'leases.coordination.k8s.io/kube-scheduler', '-n', NS],
      ['get', 'leases.coordination.k8s.io', '-n', 'other'],
      ['list', 'nodes'],
      ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
    ];
    for (const args of denied) expect(await can(op, ...args), args.join(' ')).toBe(false);
  });

  it('gives the proxy ServiceAccount no permissions at all', async () => {
    const proxy = `${NS}:sy-proxy`;
    for (const args of [
      ['get', 'secrets', '-n', NS],
      ['list', 'endpointslices.discovery.k8s.io', '-n', NS],
      ['list', 'llmpools.switchyard.dev', '-A'],
      ['get', 'pods', '-n', NS],
    ]) {
      expect(await can(proxy, ...args), args.join(' ')).toBe(false);
    }
  });

  it('limits Secrets and CRDs to operator.watchNamespace when set', async () => {
    await ok(
      'install scoped',
      cp.helm(['install', 'scoped', CHART, '-n', 'team', '--wait=false', '--set', 'operator.watchNamespace=models']),
    );
    const op = 'team:scoped-operator';
    expect(await can(op, 'get', 'secrets', '-n', 'models')).toBe(true);
    expect(await can(op, 'list', 'secrets', '-n', 'models')).toBe(false);
    expect(await can(op, 'watch', 'llmpools.switchyard.dev', '-n', 'models')).toBe(true);
    expect(await can(op, 'list', 'endpointslices.discovery.k8s.io', '-n', 'team')).toBe(true);
    expect(await can(op, 'get', 'secrets', '-n', 'team')).toBe(false);
    expect(await can(op, 'get', 'secrets', '-n', 'other')).toBe(false);
    expect(await can(op, 'list', 'llmpools.switchyard.dev', '-A')).toBe(false);
  });

  it("uninstalls, leaving the CRDs (and so the users' resources) in place", async () => {
    await ok('uninstall', cp.helm(['uninstall', 'scoped', '-n', 'team']));
    const left = await cp.kubectl(['get', 'deploy,secret', '-n', 'team', '-o', 'name']);
    expect(left.stdout).not.toContain('scoped');
    expect(await ok('crds', cp.kubectl(['get', 'crd', 'llmpools.switchyard.dev', '-o', 'name']))).toContain('llmpools');
  });
});
