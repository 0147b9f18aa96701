/**
 * Builds the CustomResourceDefinitions of switchyard.dev from the zod schemas in shared/ (the single source of
 * truth) and renders them as YAML. `scripts/generate-crds.ts` writes them to crds/; a test fails when the files
 * there differ from what this module renders.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { CUSTOM_RESOURCES, type CustomResourceKind, GROUP, VERSION } from '../../../shared/src/index.js';
import { propertySchema, type SchemaNode, toStructural } from './structural.js';

/** One additionalPrinterColumns entry. */
interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** Columns `kubectl get` shows per kind. */
export const PRINTER_COLUMNS: Record<CustomResourceKind, PrinterColumn[]> = {
  LLMBackend: [
    { name: 'Provider', type: 'string', jsonPath: '.spec.provider', description: 'Upstream protocol.' },
    { name: 'Ready', type: 'string', jsonPath: condition('Ready'), description: 'Ready condition.' },
    { name: 'Replicas', type: 'string', jsonPath: '.status.replicas', description: 'Ready/total replicas.' },
    AGE,
  ],
  LLMPool: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Public model name.' },
    { name: 'Ready', type: 'string', jsonPath: condition('Ready'), description: 'Ready condition.' },
    { name: 'Endpoints', type: 'string', jsonPath: '.status.endpoints', description: 'Ready/total endpoints.' },
    { name: 'Proxies', type: 'string', jsonPath: '.status.proxiesInSync', description: 'Proxies in sync/total.' },
    AGE,
  ],
  RoutePolicy: [
    { name: 'Accepted', type: 'string', jsonPath: condition('Accepted'), description: 'Accepted condition.' },
    { name: 'ResolvedRefs', type: 'string', jsonPath: condition('ResolvedRefs'), description: 'References resolved.' },
    AGE,
  ],
};

/** Marks `status.conditions` as a list map keyed by `type` (server-side apply merges by condition type). */
function conditionsAsMap(status: SchemaNode | undefined): void {
  const props = status?.properties as Record<string, SchemaNode> | undefined;
  const conditions = props?.conditions;
  if (!conditions) return;
  conditions['x-kubernetes-list-type'] = 'map';
  conditions['x-kubernetes-list-map-keys'] = ['type'];
  conditions.description ??= 'Latest observations of the resource state (Accepted, ResolvedRefs, Ready).';
}

/** The openAPIV3Schema of one kind: apiVersion/kind/metadata as the apiserver requires, spec and status. */
export function crdSchema(kind: CustomResourceKind): SchemaNode {
  const { schema } = CUSTOM_RESOURCES[kind];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as SchemaNode;
  const props = json.properties as Record<string, SchemaNode>;
  const spec = toStructural(props.spec as SchemaNode, 'spec');
  const status = toStructural(props.status as SchemaNode, 'status');
  conditionsAsMap(status);
  return {
    type: 'object',
    description: (spec.description as string | undefined) ?? `${kind} of ${GROUP}.`,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource.' },
      metadata: { type: 'object' },
      spec,
      status,
    },
  };
}

/** The spec schema of one kind, as the CRD carries it. */
export function specSchema(kind: CustomResourceKind): SchemaNode {
  const spec = propertySchema(crdSchema(kind), 'spec');
  if (!spec) throw new Error(`the ${kind} schema has no spec`);
  return spec;
}

/** The full CustomResourceDefinition object of one kind. */
export function buildCrd(kind: CustomResourceKind): SchemaNode {
  const { plural, singular, shortNames } = CUSTOM_RESOURCES[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular,
        shortNames: [...shortNames],
        categories: ['switchyard'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS[kind],
          schema: { openAPIV3Schema: crdSchema(kind) },
        },
      ],
    },
  };
}

const HEADER = '# Generated from shared/src/api/v1alpha1 by `npx tsx scripts/generate-crds.ts`. Do not edit.\n';

/** File name (under crds/) and YAML text of every CRD. */
export function renderCrds(): { file: string; yaml: string }[] {
  return (Object.keys(CUSTOM_RESOURCES) as CustomResourceKind[]).map((kind) => ({
    file: `${CUSTOM_RESOURCES[kind].plural}.yaml`,
    yaml: HEADER + stringify(buildCrd(kind), { lineWidth: 0 }),
  }));
}
