/**
 * The real Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule) for the chart tests, so a typo in
 * a monitor's spec fails the server-side dry run. They ship in the Go module of the Prometheus Operator
 * (`example/prometheus-operator-crd/`), fetched with `go mod download` from the Go module proxy and kept in the Go
 * module cache: a download on first use (~4 MB), a cache read afterwards.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The Prometheus Operator release whose CRDs the chart is checked against. */
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';
const MODULE = 'github.com/prometheus-operator/prometheus-operator';
const KINDS = ['servicemonitors', 'podmonitors', 'prometheusrules'] as const;

/** The three CRDs as one multi-document YAML string. */
export async function prometheusOperatorCrds(): Promise<string> {
  let dir: string;
  try {
    const { stdout } = await promisify(execFile)(
      'go',
      ['mod', 'download', '-json', `${MODULE}@${PROMETHEUS_OPERATOR_VERSION}`],
      { env: { ...process.env, GOFLAGS: '-mod=mod' }, maxBuffer: 1 << 20, cwd: import.meta.dirname },
    );
    dir = (JSON.parse(stdout) as { Dir: string }).Dir;
  } catch (e) {
    throw new Error(
      `could not fetch the Prometheus Operator CRDs (${MODULE}@${PROMETHEUS_OPERATOR_VERSION}) from the Go module proxy: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const docs = await Promise.all(
    KINDS.map((k) => readFile(join(dir, 'example/prometheus-operator-crd', `monitoring.coreos.com_${k}.yaml`), 'utf8')),
  );
  return docs.map((d) => d.replace(/^---\n/, '')).join('---\n');
}
