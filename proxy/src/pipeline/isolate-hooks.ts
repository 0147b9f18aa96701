/**
 * Observers (metrics, tracing) run inside the request path and inside stream callbacks. An observer that throws is
 * logged and skipped: it neither fails the request it observes nor reaches the event loop.
 */
import type { Logger } from 'pino';
import type { PipelineHooks } from './types.js';

const isolated = new WeakSet<PipelineHooks>();

/** `hooks` with every observer wrapped in its own try/catch (idempotent). */
export function isolateHooks(hooks: PipelineHooks, log: Logger): PipelineHooks {
  if (isolated.has(hooks)) return hooks;
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(hooks) as Array<[string, ((...args: unknown[]) => void) | undefined]>) {
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]) => {
      try {
        fn.apply(hooks, args);
      } catch (e) {
        log.error({ err: e, hook: name }, 'pipeline observer failed');
      }
    };
  }
  const result = out as PipelineHooks;
  isolated.add(result);
  return result;
}
