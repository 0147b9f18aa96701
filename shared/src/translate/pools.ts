/** LLMPool → PoolConfig: backend references resolved to targets with upstream model names; policy defaults. */
import { type LLMPool, parseDuration } from '../api/v1alpha1/index.js';
import type { BackendConfig, PoolConfig, PoolTargetConfig } from '../proxyconfig/index.js';
import { idOf, namespaceOf } from './backends.js';
import type { Problem } from './problems.js';

/** Why a backend id is missing from the translated set: it does not exist, or it exists but failed to translate. */
export type BackendLookup = (id: string) => BackendConfig | 'missing' | 'unresolved';

/** Translates one pool. Unresolvable backend references are skipped with a problem; the rest is served. */
export function translatePool(p: LLMPool, lookup: BackendLookup, problems: Problem[]): PoolConfig {
  const ns = namespaceOf(p);
  const spec = p.spec;
  const targets: PoolTargetConfig[] = [];
  for (const [i, ref] of spec.backendRefs.entries()) {
    const field = `spec.backendRefs[${i}]`;
    const push = (reason: string, message: string, f = `${field}.name`) =>
      problems.push({
        kind: 'LLMPool',
        namespace: ns,
        name: p.metadata.name,
        field: f,
        reason,
        message,
        condition: 'ResolvedRefs',
      });
    const found = lookup(`${ns}/${ref.name}`);
    if (found === 'missing') {
      push('BackendNotFound', `LLMBackend ${ns}/${ref.name} does not exist`);
      continue;
    }
    if (found === 'unresolved') {
      push(
        'BackendNotResolved',
        `LLMBackend ${ns}/${ref.name} is not served: it is invalid or has unresolved references (see its status)`,
      );
      continue;
    }
    const served = Object.keys(found.models);
    const modelName =
      ref.model ?? (found.models[spec.model] !== undefined ? spec.model : served.length === 1 ? served[0] : undefined);
    const upstreamModel = modelName === undefined ? undefined : found.models[modelName];
    if (upstreamModel === undefined) {
      push(
        'ModelNotServed',
        `LLMBackend ${ns}/${ref.name} does not serve model "${ref.model ?? spec.model}" (serves: ${served.join(', ')})`,
        `${field}.model`,
      );
      continue;
    }
    targets.push({ backend: found.id, weight: ref.weight, priority: ref.priority, upstreamModel });
  }

  const s = spec.scheduling;
  const la = s?.llmAware;
  const r = spec.retry;
  const od = spec.outlierDetection;
  return {
    id: idOf(p),
    model: spec.model,
    aliases: spec.aliases ?? [],
    targets,
    scheduling: {
      strategy: s?.strategy ?? 'least-connections',
      queue: queueConfig(s?.queue),
      overload: {
        criticalReserve: s?.overload?.criticalReserve ?? 0,
        shedOnSaturation: s?.overload?.shedOnSaturation ?? (s?.strategy ?? 'least-connections') === 'llm-aware',
      },
      llmAware: {
        weights: { queue: 2, kvCache: 1, inflight: 1, prefix: 3, lora: 1, ...la?.weights },
        maxQueueDepth: la?.maxQueueDepth ?? 8,
        maxKvCacheUsage: la?.maxKvCacheUsage ?? 0.9,
        prefixBlockChars: la?.prefixBlockChars ?? 256,
        ...(la?.sessionHeader ? { sessionHeader: la.sessionHeader.toLowerCase() } : {}),
        ...(la?.sessionFromUser ? { sessionFromUser: true } : {}),
        ...(la?.prefixIndexEntries !== undefined ? { prefixIndexEntries: la.prefixIndexEntries } : {}),
      },
    },
    retry: {
      attempts: r?.attempts ?? 3,
      retryOn: r?.retryOn ?? ['connect-failure', 'timeout', '429', '5xx'],
      ...(r?.perTryTimeout ? { perTryTimeoutMs: parseDuration(r.perTryTimeout) } : {}),
      ...(r?.deadline ? { deadlineMs: parseDuration(r.deadline) } : {}),
      backoff: { baseMs: parseDuration(r?.backoff?.base ?? '25ms'), maxMs: parseDuration(r?.backoff?.max ?? '1s') },
      maxRetryAfterMs: parseDuration(r?.maxRetryAfter ?? '10s'),
      budget: { ratio: r?.budget?.ratio ?? 0.2, minPerSecond: r?.budget?.minPerSecond ?? 10 },
    },
    outlierDetection: {
      consecutiveFailures: od?.consecutiveFailures ?? 5,
      baseEjectionMs: parseDuration(od?.baseEjectionTime ?? '30s'),
      maxEjectionMs: parseDuration(od?.maxEjectionTime ?? '300s'),
      maxEjectionPercent: od?.maxEjectionPercent ?? 50,
    },
  };
}

type QueueSpec = NonNullable<NonNullable<LLMPool['spec']['scheduling']>['queue']>;

/** The wait queue with its defaults: standard and critical requests wait up to the timeout, sheddable ones not. */
function queueConfig(q: QueueSpec | undefined): PoolConfig['scheduling']['queue'] {
  const timeoutMs = parseDuration(q?.timeout ?? '30s');
  const critical = q?.classes?.critical?.timeout;
  const sheddable = q?.classes?.sheddable?.timeout;
  return {
    maxSize: q?.maxSize ?? 100,
    timeoutMs,
    discipline: q?.discipline ?? 'fair',
    criticalTimeoutMs: critical !== undefined ? parseDuration(critical) : timeoutMs,
    sheddableTimeoutMs: sheddable !== undefined ? parseDuration(sheddable) : 0,
  };
}
