/**
 * Counters and histograms for the request hot path. prom-client re-validates and re-hashes the labels on every
 * inc/observe, even through `.labels()` children; these keep one plain child object per label-value tuple (found
 * with one Map lookup) and hand their values to the prom-client Registry only at scrape time, through the same
 * `get()` contract prom-client's own metrics implement. Label values passed in must be bounded.
 */
import type { Metric, Registry } from 'prom-client';
import type { MetricSpec } from './metric-specs.js';

type Labels = Record<string, string | number>;
interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

const OPENMETRICS = 'application/openmetrics-text';

abstract class FastMetric<C> {
  readonly help: string;
  readonly type: string;
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, { labels: Labels; child: C }>();

  constructor(
    protected readonly spec: MetricSpec,
    private readonly registry: Registry,
  ) {
    this.help = spec.help;
    this.type = spec.type;
    registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The name the registry prints. prom-client renames counters for OpenMetrics by assigning `name` (dropping
   * `_total`) and never renames them back; deriving it from the registry's content type keeps both formats right.
   */
  get name(): string {
    const om = this.type === 'counter' && this.registry.contentType.startsWith(OPENMETRICS);
    return om ? this.spec.name.replace(/_total$/, '') : this.spec.name;
  }
  set name(_ignored: string) {}

  /** The child for these label values (in the spec's label order), created on first use. */
  child(...values: string[]): C {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u001f');
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.spec.labelNames.forEach((l, i) => {
        labels[l] = values[i] ?? '';
      });
      entry = { labels, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract create(): C;
  protected abstract values(): MetricValue[];

  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  reset(): void {
    this.children.clear();
  }

  /** Drops the series whose labels `keep` rejects (e.g. of endpoints no longer in the snapshot). */
  retain(keep: (labels: Readonly<Labels>) => boolean): void {
    for (const [key, entry] of this.children) if (!keep(entry.labels)) this.children.delete(key);
  }
}

/** One counter series. */
export class CounterChild {
  value = 0;
  inc(amount = 1): void {
    this.value += amount;
  }
}

/** A counter whose children are plain objects. */
export class FastCounter extends FastMetric<CounterChild> {
  protected create() {
    return new CounterChild();
  }
  protected values(): MetricValue[] {
    return [...this.children.values()].map(({ labels, child }) => ({ value: child.value, labels }));
  }
}

/** One histogram series: per-bucket (not cumulative) counts, sum and count. */
export class HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A histogram whose children are plain objects. */
export class FastHistogram extends FastMetric<HistogramChild> {
  private readonly bounds: readonly number[] = this.spec.buckets ?? [];

  protected create() {
    return new HistogramChild(this.bounds);
  }
  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    const name = this.spec.name;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += child.counts[i] as number;
        out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: child.count });
      out.push({ metricName: `${name}_sum`, labels, value: child.sum });
      out.push({ metricName: `${name}_count`, labels, value: child.count });
    }
    return out;
  }
}

/**
 * Applies the same naming fix to the prom-client counters already in `registry` (e.g. Node process metrics):
 * after an OpenMetrics scrape they would otherwise lose `_total` in every later text-format scrape.
 */
export function keepCounterNames(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    if ((metric as unknown as { type?: string }).type !== 'counter' || metric instanceof FastMetric) continue;
    const original = (metric as { name: string }).name;
    Object.defineProperty(metric, 'name', {
      configurable: true,
      get: () => (registry.contentType.startsWith(OPENMETRICS) ? original.replace(/_total$/, '') : original),
      set: () => {},
    });
  }
}
