/** The Hono environment of the traffic app: Node bindings, and the record and logger of each request. */
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { CallRecord } from './call/record.js';

export interface Env {
  Bindings: Partial<HttpBindings>;
  Variables: { record: CallRecord; log: Logger };
}
