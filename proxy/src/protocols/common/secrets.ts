/**
 * Upstream text made safe before it reaches a client, a log or a metric: credentials scrubbed out first, then the
 * text cut to a bounded length (in that order, so a cut never leaves the first part of a key behind).
 */

const KEY_PATTERNS = [/sk-[A-Za-z0-9_\-*]{6,}/g, /Bearer\s+[A-Za-z0-9._\-~+/]+=*/gi];

/** Longest upstream message passed on (characters). */
export const MAX_UPSTREAM_MESSAGE = 2000;

/**
 * `text` with `secret` and anything shaped like an API key replaced by `[redacted]`, then cut to `max` characters;
 * a value that is not a string becomes `fallback`.
 */
export function scrubSecrets(
  text: unknown,
  secret?: string,
  max = MAX_UPSTREAM_MESSAGE,
  fallback = 'upstream error',
): string {
  if (typeof text !== 'string') return fallback;
  let out = secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
  for (const p of KEY_PATTERNS) out = out.replace(p, '[redacted]');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

const CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** An upstream error code or type when it is a short identifier, else `fallback` (it ends up in JSON and logs). */
export function upstreamCode<F extends string | null>(value: unknown, fallback: F): string | F {
  return typeof value === 'string' && CODE.test(value) ? value : fallback;
}
