/**
 * The chart rendered with `helm template`: defaults are safe and wired together, every optional feature renders,
 * and each toggle is tested both ways (monitors also need the monitoring.coreos.com/v1 API).
 */
import { describe, expect, it } from 'vitest';
import { ALL_FEATURES, find, type KubeObject, MONITORING_API, ofKind, render } from './helm.js';

// The first run may build helm with the control plane (many minutes); later runs take a second per render.
const FIRST_BUILD = 60 * 60_000;

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  topologySpreadConstraints?: { topologyKey: string }[];
}

const podSpec = (o: KubeObject): PodSpec =>
  o.kind === 'Pod' ? (o.spec as PodSpec) : (o.spec as { template: { spec: PodSpec } }).template.spec;
const kinds = (objs: KubeObject[]) => objs.map((o) => o.kind);
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));

describe('chart defaults', () => {
  it(
    'renders operator, proxy, Services, RBAC, push token, PDB and the test hook',
    async () => {
      const objs = await render();
      expect(new Set(kinds(objs))).toEqual(
        new Set([
          'ServiceAccount',
          'Secret',
          'ClusterRole',
          'ClusterRoleBinding',
          'Role',
          'RoleBinding',
          'Service',
          'Deployment',
          'PodDisruptionBudget',
          'Pod',
        ]),
      );
      expect(ofKind(objs, 'Service').map((s) => s.metadata.name)).toEqual(
        expect.arrayContaining(['sy', 'sy-proxy-pods', 'sy-operator-metrics']),
      );
    },
    FIRST_BUILD,
  );

  it('runs every pod non-root, read-only, without privileges and with RuntimeDefault seccomp', async () => {
    const objs = await render();
    const pods = [...ofKind(objs, 'Deployment'), ...ofKind(objs, 'Pod')];
    expect(pods).toHaveLength(3);
    for (const o of pods) {
      const spec = podSpec(o);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of spec.containers) {
        expect(c.securityContext, `${o.metadata.name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('gives the proxy no API token and the operator its own ServiceAccount', async () => {
    const objs = await render();
    const proxy = podSpec(find(objs, 'Deployment', 'sy'));
    expect(proxy.automountServiceAccountToken).toBe(false);
    expect(find(objs, 'ServiceAccount', 'sy-proxy').automountServiceAccountToken).toBe(false);
    const proxyBindings = [...ofKind(objs, 'RoleBinding'), ...ofKind(objs, 'ClusterRoleBinding')].filter((b) =>
      (b.subjects as { name: string }[]).some((s) => s.name === 'sy-proxy'),
    );
    expect(proxyBindings).toEqual([]);
    expect(podSpec(find(objs, 'Deployment', 'sy-operator')).serviceAccountName).toBe('sy-operator');
  });

  it('points the operator at the headless discovery Service, which publishes not-ready proxies', async () => {
    const objs = await render({ namespace: 'gw' });
    const discovery = find(objs, 'Service', 'sy-proxy-pods').spec as Record<string, unknown>;
    expect(discovery).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const args = podSpec(find(objs, 'Deployment', 'sy-operator')).containers[0]?.args ?? [];
    expect(args).toContain('--proxy-service=gw/sy-proxy-pods');
    expect(args).toContain('--leader-elect=true');
    expect(args).toContain('--lease-name=sy-operator');
    expect(args).toContain('--push-token-file=/var/run/switchyard/push-token/token');
    const proxyArgs = podSpec(find(objs, 'Deployment', 'sy')).containers[0]?.args ?? [];
    expect(proxyArgs).toContain('--push-token-file=/var/run/switchyard/push-token/token');
    const ports = (find(objs, 'Service', 'sy').spec as { ports: { name: string; port: number }[] }).ports;
    expect(ports.map((p) => [p.name, p.port])).toEqual([
      ['http', 8080],
      ['admin', 9090],
    ]);
  });

  it('passes every proxy bound as a flag, defaults and overrides', async () => {
    const args = async (set: string[] = []) =>
      podSpec(find(await render({ set }), 'Deployment', 'sy')).containers[0]?.args ?? [];
    expect(await args()).toEqual(
      expect.arrayContaining([
        '--max-body-bytes=10485760',
        '--headers-timeout-seconds=10',
        '--body-timeout-seconds=30',
        '--max-unauthenticated-body-bytes=67108864',
        '--max-json-depth=64',
        '--max-json-values=100000',
        '--max-model-name-length=256',
        '--max-upstream-event-bytes=1048576',
        '--max-upstream-response-bytes=33554432',
      ]),
    );
    const set = await args(['proxy.bounds.bodyTimeoutSeconds=45', 'proxy.bounds.maxUnauthenticatedBodyBytes=1048576']);
    expect(set).toContain('--body-timeout-seconds=45');
    expect(set).toContain('--max-unauthenticated-body-bytes=1048576');
  });

  it('sizes the V8 heap of proxy and operator from their memory limits through NODE_OPTIONS, overridable', async () => {
    const nodeOptions = async (set: string[] = [], valuesFiles: string[] = []) => {
      const objs = await render({ set, valuesFiles });
      return ['sy', 'sy-operator'].map((name) => {
        const env = podSpec(find(objs, 'Deployment', name)).containers[0]?.env ?? [];
        return env.filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value);
      });
    };
    // 75 % of the 512 Mi and 256 Mi limits.
    expect(await nodeOptions()).toEqual([['--max-old-space-size=384'], ['--max-old-space-size=192']]);
    expect(
      await nodeOptions([
        'proxy.resources.limits.memory=2G',
        'proxy.nodeHeap.percentOfMemoryLimit=50',
        'operator.resources.limits.memory=1Gi',
      ]),
    ).toEqual([['--max-old-space-size=953'], ['--max-old-space-size=768']]);
    expect(await nodeOptions(['proxy.nodeHeap.maxOldSpaceSizeMb=1000', 'operator.resources.limits=null'])).toEqual([
      ['--max-old-space-size=1000'],
      [],
    ]);
    // A NODE_OPTIONS of the operator's own (extraEnv in the all-features values: 192) is the only one.
    expect(await nodeOptions(['operator.nodeHeap.maxOldSpaceSizeMb=100'], [ALL_FEATURES])).toEqual([
      ['--max-old-space-size=384'],
      ['--max-old-space-size=192'],
    ]);
    await expect(render({ set: ['proxy.nodeHeap.percentOfMemoryLimit=150'] })).rejects.toThrow();
  });

  it('passes the default access for pools no RoutePolicy covers (allow unless set to deny)', async () => {
    const args = async (set: string[]) =>
      podSpec(find(await render({ set }), 'Deployment', 'sy')).containers[0]?.args ?? [];
    expect(await args([])).toContain('--default-access=allow');
    expect(await args(['proxy.defaultAccess=deny'])).toContain('--default-access=deny');
    await expect(render({ set: ['proxy.defaultAccess=maybe'] })).rejects.toThrow();
  });

  it('spreads proxies over zones and nodes', async () => {
    const spread = podSpec(find(await render(), 'Deployment', 'sy')).topologySpreadConstraints ?? [];
    expect(spread.map((c) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    const off = podSpec(find(await render({ set: ['proxy.topologySpread.enabled=false'] }), 'Deployment', 'sy'));
    expect(off.topologySpreadConstraints).toBeUndefined();
  });
});

describe('chart with every optional feature on', () => {
  it('renders HPA, both PDBs, NetworkPolicies, monitors, namespaced RBAC, Redis, ledger and OTel settings', async () => {
    const objs = await render({ valuesFiles: [ALL_FEATURES], apiVersions: [MONITORING_API] });
    const k = kinds(objs);
    for (const kind of ['HorizontalPodAutoscaler', 'NetworkPolicy', 'ServiceMonitor']) expect(k).toContain(kind);
    expect(ofKind(objs, 'PodDisruptionBudget')).toHaveLength(2);
    expect(ofKind(objs, 'ClusterRole')).toEqual([]);
    expect(find(objs, 'Role', 'sy-operator').metadata.namespace).toBe('models');
    const proxy = find(objs, 'Deployment', 'sy');
    expect((proxy.spec as Record<string, unknown>).replicas).toBeUndefined();
    const env = envOf(podSpec(proxy).containers[0] as Container);
    expect(env.SWITCHYARD_REDIS_URL?.valueFrom?.secretKeyRef).toEqual({ name: 'switchyard-redis', key: 'url' });
    expect(env.SWITCHYARD_LEDGER_URL?.valueFrom?.secretKeyRef).toEqual({ name: 'switchyard-ledger', key: 'url' });
    expect(env.SWITCHYARD_LEDGER_RETENTION_DAYS?.value).toBe('90');
    expect(env.SWITCHYARD_USAGE_TOKEN?.valueFrom?.secretKeyRef).toEqual({
      name: 'switchyard-usage',
      key: 'usage-token',
    });
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT?.value).toBe('http://otel-collector.observability.svc:4318');
    expect(env.OTEL_TRACES_SAMPLER_ARG?.value).toBe('0.1');
    expect(env.OTEL_SDK_DISABLED).toBeUndefined();
    const operator = podSpec(find(objs, 'Deployment', 'sy-operator'));
    expect(operator.containers[0]?.args).toContain('--namespace=models');
  });
});

describe('chart toggles', () => {
  const monitors = (objs: KubeObject[]) =>
    objs.filter((o) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(o.kind));

  it('renders ServiceMonitors only when enabled and the monitoring API exists', async () => {
    const on = ['monitoring.serviceMonitor.enabled=true'];
    expect(monitors(await render({ set: on, apiVersions: [MONITORING_API] })).map((o) => o.metadata.name)).toEqual([
      'sy-proxy',
      'sy-operator',
    ]);
    expect(monitors(await render({ set: on }))).toEqual([]);
    expect(monitors(await render({ apiVersions: [MONITORING_API] }))).toEqual([]);
  });

  it('renders PodMonitors only when enabled and the monitoring API exists', async () => {
    const on = ['monitoring.podMonitor.enabled=true'];
    const objs = await render({ set: on, apiVersions: [MONITORING_API] });
    expect(ofKind(objs, 'PodMonitor')).toHaveLength(2);
    expect(monitors(await render({ set: on }))).toEqual([]);
  });

  it('passes the ledger URL and the usage token from their Secrets only when set', async () => {
    const off = envOf(podSpec(find(await render(), 'Deployment', 'sy')).containers[0] as Container);
    expect(Object.keys(off).filter((k) => /LEDGER|USAGE/.test(k))).toEqual([]);
    const on = envOf(
      podSpec(find(await render({ set: ['ledger.existingSecret=db'] }), 'Deployment', 'sy')).containers[0] as Container,
    );
    expect(on.SWITCHYARD_LEDGER_URL?.valueFrom?.secretKeyRef).toEqual({ name: 'db', key: 'ledger-url' });
    expect(on.SWITCHYARD_LEDGER_RETENTION_DAYS?.value).toBe('400');
    expect(on.SWITCHYARD_USAGE_TOKEN).toBeUndefined();
  });

  it('renders NetworkPolicies only when enabled', async () => {
    expect(ofKind(await render(), 'NetworkPolicy')).toEqual([]);
    const objs = await render({ set: ['networkPolicy.enabled=true'] });
    expect(ofKind(objs, 'NetworkPolicy').map((o) => o.metadata.name)).toEqual(['sy', 'sy-operator']);
  });

  it('switches HPA, PDBs, push-token Secret, RBAC and the test hook', async () => {
    expect(ofKind(await render(), 'HorizontalPodAutoscaler')).toEqual([]);
    expect(ofKind(await render({ set: ['proxy.autoscaling.enabled=true'] }), 'HorizontalPodAutoscaler')).toHaveLength(
      1,
    );
    expect(ofKind(await render({ set: ['proxy.podDisruptionBudget.enabled=false'] }), 'PodDisruptionBudget')).toEqual(
      [],
    );
    const withOperatorPdb = await render({ set: ['operator.podDisruptionBudget.enabled=true'] });
    expect(ofKind(withOperatorPdb, 'PodDisruptionBudget')).toHaveLength(2);
    const existing = await render({ set: ['pushToken.existingSecret=mine', 'pushToken.existingSecretKey=k'] });
    expect(ofKind(existing, 'Secret')).toEqual([]);
    const volumes = (podSpec(find(existing, 'Deployment', 'sy')) as unknown as { volumes: unknown[] }).volumes;
    expect(volumes).toContainEqual(
      expect.objectContaining({ secret: expect.objectContaining({ secretName: 'mine' }) }),
    );
    const noRbac = await render({ set: ['rbac.create=false'] });
    expect([...ofKind(noRbac, 'ClusterRole'), ...ofKind(noRbac, 'Role')]).toEqual([]);
    expect(ofKind(await render({ set: ['tests.enabled=false'] }), 'Pod')).toEqual([]);
  });

  it('refuses two operators without leader election, and two kinds of monitors at once', async () => {
    await expect(render({ set: ['operator.replicas=2', 'operator.leaderElection.enabled=false'] })).rejects.toThrow(
      /leaderElection/,
    );
    await expect(
      render({ set: ['monitoring.serviceMonitor.enabled=true', 'monitoring.podMonitor.enabled=true'] }),
    ).rejects.toThrow(/only one/);
  });
});
