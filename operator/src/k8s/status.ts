/**
 * Writes the status subresource with optimistic concurrency: PUT with the object's resourceVersion; on 409
 * Conflict the object is read again, the status recomputed from it (so lastTransitionTime logic sees the latest
 * conditions) and written again. NotFound means the object is gone: nothing to do.
 */
import { isStatus, type KubeClient } from './client.js';
import type { KubeObject } from './objects.js';
import { objectPath, type ResourceType } from './resources.js';

/** Computes the status to write from the current object; undefined when it is already right. */
export type StatusFn<T> = (current: T) => object | undefined;

/** Result of a status write. */
export type StatusWriteResult = 'written' | 'unchanged' | 'gone';

/** Writes status, retrying conflicts up to `attempts` times (then throws so the work queue backs off). */
export async function writeStatus<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  rt: ResourceType,
  cached: T,
  compute: StatusFn<T>,
  attempts = 5,
): Promise<StatusWriteResult> {
  const ns = cached.metadata.namespace ?? 'default';
  const path = objectPath(rt, ns, cached.metadata.name, 'status');
  let current = cached;
  for (let i = 0; ; i++) {
    const status = compute(current);
    if (status === undefined) return 'unchanged';
    try {
      await client.request('PUT', path, { body: { ...current, status } });
      return 'written';
    } catch (err) {
      if (isStatus(err, 404)) return 'gone';
      if (!isStatus(err, 409) || i + 1 >= attempts) throw err;
      try {
        current = await client.request<T>('GET', objectPath(rt, ns, cached.metadata.name));
      } catch (e) {
        if (isStatus(e, 404)) return 'gone';
        throw e;
      }
    }
  }
}
