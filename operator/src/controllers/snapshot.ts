/**
 * The snapshot reconciler: rebuilds the whole translation input from the caches (custom resources, the Services
 * and EndpointSlices they reference, the Secrets they name), translates it, hands the snapshot to the pusher and
 * remembers the translation for the status reconcilers. One reconcile for the whole cluster: see controller.ts.
 */
import type { Logger } from 'pino';
import { formatProblem, type Secret, translate } from '../../../shared/src/index.js';
import type { OperatorMetrics } from '../metrics.js';
import type { Pusher } from '../push/pusher.js';
import { buildInput, type CacheView } from './inputs.js';
import type { SecretRef } from './secrets.js';
import { ServingTracker } from './serving.js';
import type { TranslationState } from './status.js';

/** Dependencies of the snapshot reconciler. */
export interface SnapshotDeps {
  cache: CacheView;
  pusher: Pusher;
  /** Reads the referenced Secrets (by name; see secrets.ts). */
  secrets: { secrets(refs: ReadonlySet<SecretRef>): Promise<Secret[]> };
  metrics?: OperatorMetrics;
  log?: Logger;
}

export class SnapshotReconciler {
  private state: Omit<TranslationState, 'proxies'> | undefined;
  private readonly serving = new ServingTracker();
  private serviceRefs: Set<string> | undefined;

  constructor(private readonly deps: SnapshotDeps) {}

  /**
   * The latest translation with what the proxies serve now (per resource: proxies whose snapshot holds it as it
   * is in this one); undefined before the first translation.
   */
  current(): TranslationState | undefined {
    if (!this.state) return undefined;
    const served = this.deps.pusher.sync().proxies.map((p) => p.content);
    return { ...this.state, proxies: this.serving.count(this.state.config.version, served) };
  }

  /**
   * Whether a change of Service (or EndpointSlice of Service) `namespace/name` can change the snapshot: only when a
   * backend references it (or before the first translation). Other Services and slices never cost a translation.
   */
  referencesService(key: string): boolean {
    return this.serviceRefs === undefined || this.serviceRefs.has(key);
  }

  /** Translates the caches and hands the snapshot to the pusher. */
  async reconcile(): Promise<void> {
    const { input, invalid, replicas, secretRefs, serviceRefs } = buildInput(this.deps.cache);
    input.secrets = await this.deps.secrets.secrets(secretRefs);
    const started = performance.now();
    const { config, problems } = translate(input);
    this.serviceRefs = serviceRefs;
    this.deps.metrics?.translateSeconds.observe((performance.now() - started) / 1000);
    const previous = this.state?.config.version;
    this.serving.record(config);
    this.state = { config, problems, invalid, replicas };
    if (previous !== config.version) {
      this.deps.log?.info(
        {
          version: config.version,
          backends: config.backends.length,
          pools: config.pools.length,
          problems: problems.length,
        },
        'snapshot translated',
      );
      for (const p of problems) this.deps.log?.debug({ problem: formatProblem(p) }, 'translation problem');
    }
    this.deps.pusher.setSnapshot(config);
  }
}
