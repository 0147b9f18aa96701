/**
 * Upstream usage numbers are untrusted: before they reach metrics, limits, budgets, cost or logs each count must be
 * a non-negative integer no larger than any real request could use. Usage that fails the check is dropped whole
 * (the usage stage then estimates the tokens and flags them `usageEstimated`).
 */
import type { Usage } from '../protocols/canonical/usage.js';

/** Most tokens one request can plausibly report in any count (far above any model's context window). */
export const MAX_TOKENS_PER_REQUEST = 100_000_000;

const plausible = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS_PER_REQUEST;

/** `u` when every count is plausible (cached input within input), else undefined. */
export function checkedUsage(u: Usage): Usage | undefined {
  if (!plausible(u.inputTokens) || !plausible(u.outputTokens)) return undefined;
  if (u.cachedInputTokens !== undefined && (!plausible(u.cachedInputTokens) || u.cachedInputTokens > u.inputTokens))
    return undefined;
  return u;
}
