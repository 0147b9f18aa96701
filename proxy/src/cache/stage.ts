/**
 * The cache stage (after admission): a cached answer found with the admission is replayed without calling the
 * upstream; otherwise the answer is recorded on its way to the client and, when it is complete and storable, handed
 * to the limits stage to store with its settling round trip. Answers carry `x-switchyard-cache: hit` or `miss`
 * wherever a cache covers the pool.
 */
import type { AdmittedCall, Stage } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import { GatewayError } from '../errors.js';
import { encodeEntry } from './entry.js';
import { RecordingSink } from './recording-sink.js';
import { replayEntry } from './replay.js';

const MISS = { 'x-switchyard-cache': 'miss' } as const;

/** Creates the cache stage. */
export const serveFromCache = (observers: Observers): Stage<AdmittedCall> =>
  async function serveFromCache(call, next) {
    const plan = call.admission.cache;
    if (!plan) return next(call);
    const cached = call.admission.cached;
    if (cached !== undefined && replayEntry(call, cached)) {
      // The cached answer takes the place of the attempts.
      call.record.cache = 'hit';
      call.record.upstream.pool = call.route.pools[0]?.config.id;
      call.record.response.status = 200;
      observers.emit('onCache', call, 'hit');
      observers.emit('onAnswering', call);
      return;
    }
    call.record.cache = plan.key ? 'miss' : 'bypass';
    observers.emit('onCache', call, call.record.cache);
    const sink = new RecordingSink(call.sink, MISS, plan.key !== undefined, plan.maxEntryBytes);
    try {
      await next({ ...call, sink });
    } catch (e) {
      throw e instanceof GatewayError && !sink.headSent ? e.withHeaders(MISS) : e;
    } finally {
      const body = plan.key && !call.record.streamError ? sink.recorded() : undefined;
      if (body !== undefined)
        call.admission.storeWithSettle({
          value: encodeEntry({ contentType: sink.contentType ?? 'application/json', body }),
          ttlMs: plan.ttlMs,
        });
    }
  };
