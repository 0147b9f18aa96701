/** The session key of a request for session affinity: the pool's session header, else (if enabled) `user`. */
import type { PoolConfig } from '../../../../shared/src/proxyconfig/index.js';

/** Longest session key kept; longer values are not used (the table's memory stays bounded). */
const MAX_SESSION_KEY_CHARS = 256;

/**
 * The session key for `pool` (llm-aware only): the value of `sessionHeader`, else the body's `user` string when
 * `sessionFromUser` is on; undefined when there is none or it is longer than 256 characters.
 */
export function sessionKeyOf(
  pool: PoolConfig,
  header: (name: string) => string | undefined,
  body: Record<string, unknown>,
): string | undefined {
  if (pool.scheduling.strategy !== 'llm-aware') return undefined;
  const cfg = pool.scheduling.llmAware;
  let key = cfg.sessionHeader ? header(cfg.sessionHeader) : undefined;
  if (!key && cfg.sessionFromUser && typeof body.user === 'string') key = `user:${body.user}`;
  return key && key.length <= MAX_SESSION_KEY_CHARS ? key : undefined;
}
