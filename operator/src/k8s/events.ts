/** Records core/v1 Events on objects (shown by `kubectl describe`). Best effort: failures are logged, never thrown. */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.js';
import type { Event, KubeObject } from './objects.js';
import { collectionPath, EVENTS } from './resources.js';

/** Creates events for one component (`source.component`). */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log?: Logger,
  ) {}

  /** Records an event; `message` must not contain secrets. */
  async record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = obj.metadata.namespace ?? 'default';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const body: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: ns,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.client.request('POST', collectionPath(EVENTS, ns), { body, timeoutMs: 5_000 });
    } catch (err) {
      this.log?.warn({ err: String(err), reason, object: `${ns}/${obj.metadata.name}` }, 'could not record event');
    }
  }
}
