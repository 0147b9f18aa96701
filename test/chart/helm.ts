/**
 * Helpers of the chart tests: run the helm binary built for the test control plane (same lookup as
 * `startControlPlane()`, never a build of its own) and parse rendered manifests.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { controlPlaneBinDir } from '../control-plane/index.js';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The chart under test. */
export const CHART = join(ROOT, 'charts', 'switchyard');
/** Values with every optional feature on. */
export const ALL_FEATURES = join(CHART, 'ci', 'all-features-values.yaml');
/** The API group/version of the Prometheus Operator's resources. */
export const MONITORING_API = 'monitoring.coreos.com/v1';

/** A rendered Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Result of one helm run. */
export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs helm (from the control plane's bin dir) with isolated caches; never throws on a non-zero exit. */
export async function helm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<HelmResult> {
  const bin = join(await controlPlaneBinDir(), 'helm');
  const home = join(tmpdir(), 'switchyard-chart-test-helm');
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(home, 'cache'),
          HELM_CONFIG_HOME: join(home, 'config'),
          HELM_DATA_HOME: join(home, 'data'),
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Options of {@link render}. */
export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, applied in order. */
  valuesFiles?: string[];
  /** `--set` expressions. */
  set?: string[];
  /** Simulate APIs the cluster serves (`--api-versions`). */
  apiVersions?: string[];
  /** Chart directory (default: the real chart). */
  chart?: string;
}

/** `helm template` arguments for `opts`. */
export function templateArgs(opts: RenderOptions = {}): string[] {
  return [
    'template',
    opts.release ?? 'sy',
    opts.chart ?? CHART,
    '--namespace',
    opts.namespace ?? 'switchyard',
    ...(opts.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(opts.set ?? []).flatMap((s) => ['--set', s]),
    ...(opts.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
  ];
}

/** Renders the chart (templates only, CRDs excluded); throws with helm's message on failure. */
export async function render(opts: RenderOptions = {}): Promise<KubeObject[]> {
  const res = await helm(templateArgs(opts));
  if (res.code !== 0) throw new Error(`helm template failed: ${res.stderr}`);
  return parseObjects(res.stdout);
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

/** Objects of one kind. */
export const ofKind = (objs: KubeObject[], kind: string): KubeObject[] => objs.filter((o) => o.kind === kind);

/** The one object of `kind` named `name`; throws when absent. */
export function find(objs: KubeObject[], kind: string, name: string): KubeObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/**
 * A copy of the chart in a temp dir with extra files (e.g. a dashboard in files/dashboards/), so tests of the
 * monitoring templates do not depend on what the observability files hold today.
 */
export async function chartCopyWith(files: Record<string, string>): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'switchyard-chart-')), 'switchyard');
  await cp(CHART, dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  return dir;
}
