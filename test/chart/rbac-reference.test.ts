/**
 * operator/config/rbac.yaml (used by the operator e2e and docs/operator.md) grants exactly what the chart grants:
 * the rules of the chart's ClusterRole and release-namespace Role (default values) equal those of the reference
 * ClusterRole and Role, compared as (apiGroup, resource, verb, resourceName) tuples, so names, namespaces and the
 * grouping of rules do not matter; the Lease name is the one each side elects on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KubeObject, ofKind, parseObjects, ROOT, render } from './helm.js';

// The first run may build helm with the control plane (many minutes); later runs take a second per render.
const FIRST_BUILD = 60 * 60_000;

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/** One tuple per (group, resource, verb, name); `leaseName` becomes `<lease>`, no name `*`. */
function grants(objs: KubeObject[], leaseName: string): string[] {
  const out = new Set<string>();
  for (const o of objs) {
    for (const r of (o.rules ?? []) as PolicyRule[]) {
      const names = r.resourceNames?.length ? r.resourceNames : ['*'];
      for (const g of r.apiGroups ?? [])
        for (const res of r.resources ?? [])
          for (const v of r.verbs ?? [])
            for (const n of names) out.add(`${g || 'core'} ${res} ${v} ${n === leaseName ? '<lease>' : n}`);
    }
  }
  return [...out].sort();
}

describe('operator/config/rbac.yaml', () => {
  it(
    'grants the same rules as the chart, cluster-wide and in the operator namespace',
    async () => {
      const chart = (await render()).filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'operator');
      const reference = parseObjects(await readFile(join(ROOT, 'operator', 'config', 'rbac.yaml'), 'utf8'));
      // the Lease each one elects on: the chart passes --lease-name=<fullname>-operator, the reference assumes the
      // operator's default (switchyard-operator)
      const chartLease = 'sy-operator';
      const referenceLease = 'switchyard-operator';
      for (const kind of ['ClusterRole', 'Role']) {
        expect(ofKind(chart, kind), `chart ${kind}`).toHaveLength(1);
        expect(ofKind(reference, kind), `reference ${kind}`).toHaveLength(1);
        expect(grants(ofKind(reference, kind), referenceLease), kind).toEqual(grants(ofKind(chart, kind), chartLease));
      }
      // and the tuples are what the operator sends (a change here must go to both files and to the can-i checks
      // of install.test.ts)
      expect(grants(ofKind(chart, 'ClusterRole'), chartLease)).toEqual([
        'core events create *',
        'core secrets get *',
        'core services list *',
        'core services watch *',
        'discovery.k8s.io endpointslices list *',
        'discovery.k8s.io endpointslices watch *',
        'switchyard.dev llmbackends get *',
        'switchyard.dev llmbackends list *',
        'switchyard.dev llmbackends watch *',
        'switchyard.dev llmbackends/status update *',
        'switchyard.dev llmpools get *',
        'switchyard.dev llmpools list *',
        'switchyard.dev llmpools watch *',
        'switchyard.dev llmpools/status update *',
        'switchyard.dev routepolicies get *',
        'switchyard.dev routepolicies list *',
        'switchyard.dev routepolicies watch *',
        'switchyard.dev routepolicies/status update *',
      ]);
      expect(grants(ofKind(chart, 'Role'), chartLease)).toEqual([
        'coordination.k8s.io leases create *',
        'coordination.k8s.io leases get <lease>',
        'coordination.k8s.io leases update <lease>',
      ]);
      // both bind their roles to the operator's ServiceAccount only
      for (const [objs, sa] of [
        [chart, 'sy-operator'],
        [reference, 'switchyard-operator'],
      ] as const) {
        for (const b of [...ofKind(objs, 'ClusterRoleBinding'), ...ofKind(objs, 'RoleBinding')]) {
          expect(b.subjects, b.metadata.name).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: sa })]);
        }
      }
    },
    FIRST_BUILD,
  );

  it('the chart grants the same rules when scoped to operator.watchNamespace, as a Role there', async () => {
    const scoped = (await render({ set: ['operator.watchNamespace=models'] })).filter(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
    );
    const cluster = (await render()).filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'operator');
    const watched = ofKind(scoped, 'Role').filter((o) => o.metadata.namespace === 'models');
    expect(watched).toHaveLength(1);
    expect(ofKind(scoped, 'ClusterRole')).toHaveLength(0);
    expect(grants(watched, 'sy-operator')).toEqual(grants(ofKind(cluster, 'ClusterRole'), 'sy-operator'));
  });
});
