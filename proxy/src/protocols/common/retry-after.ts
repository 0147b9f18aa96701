/** Retry-After as upstreams send it (`retry-after-ms`, `retry-after` in seconds or as an HTTP date), made sane. */

/** Response headers of an upstream answer. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** Longest Retry-After taken from an upstream (an hour): a larger or malformed value is not believed. */
export const MAX_UPSTREAM_RETRY_AFTER_MS = 3_600_000;

const sane = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms >= 0 ? Math.min(Math.round(ms), MAX_UPSTREAM_RETRY_AFTER_MS) : undefined;

/**
 * Milliseconds from `retry-after-ms` or `retry-after` (seconds or HTTP date), if present and sane: negative,
 * non-numeric and non-finite values are ignored, huge ones capped. The client only ever sees this number, re-encoded
 * by the gateway — never the upstream's header text.
 */
export function retryAfterMs(headers: UpstreamHeaders, now = Date.now()): number | undefined {
  const msHeader = headers['retry-after-ms'];
  const ms = typeof msHeader === 'string' && msHeader.trim() !== '' ? sane(Number(msHeader)) : undefined;
  if (ms !== undefined) return ms;
  const ra = headers['retry-after'];
  if (typeof ra !== 'string' || ra.trim() === '') return undefined;
  const s = Number(ra);
  if (!Number.isNaN(s)) return sane(s * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : sane(Math.max(0, date - now));
}
