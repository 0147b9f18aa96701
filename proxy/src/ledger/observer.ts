/** The observer that turns each finished request into a ledger entry (no prompt or answer text). */
import { randomUUID } from 'node:crypto';
import type { CallObserver } from '../call/observers.js';
import type { GuardrailMark, RequestSummary } from '../call/record.js';
import type { LedgerEntry } from './entry.js';

/** The ledger entry of a request that finished at `finishedAt`. */
export function ledgerEntryOf(state: RequestSummary, finishedAt: number): LedgerEntry {
  return {
    id: randomUUID(),
    requestId: state.id,
    startedAt: state.startedAt,
    finishedAt,
    surface: state.surface,
    policy: state.policy,
    tenant: state.tenant,
    keyId: state.keyId,
    model: state.model,
    pool: state.pool,
    backend: state.backend,
    endpoint: state.endpoint,
    stream: state.stream === true,
    status: state.status ?? 0,
    errorCode: state.errorCode,
    attempts: state.attempts,
    inputTokens: state.inputTokens ?? 0,
    outputTokens: state.outputTokens ?? 0,
    cachedInputTokens: state.cachedInputTokens ?? 0,
    usageEstimated: state.usageEstimated,
    cost: state.cost,
    currency: state.currency,
    cache: state.cache,
    guardrail: strongestAction(state.guardrails),
  };
}

/** `deny` when a guardrail denied, else `mask` when one masked, else undefined. */
function strongestAction(list: readonly GuardrailMark[]): string | undefined {
  if (list.some((g) => g.action === 'deny')) return 'deny';
  return list.some((g) => g.action === 'mask') ? 'mask' : undefined;
}

/** The observer recording every finished request in `ledger`. */
export const recordToLedger = (
  ledger: { record(entry: LedgerEntry): void },
  now: () => number = Date.now,
): CallObserver => ({
  onRequestEnd: (request) => ledger.record(ledgerEntryOf(request, now())),
});
