/**
 * The request-side guardrail stage: after authentication (tenants name guardrails) and before the system prompt,
 * limits and the cache read the body, every guardrail that applies to the call (select.ts) checks the client's
 * texts, in order, before any upstream attempt. A mask replaces the texts the next guardrail and the upstream see; a
 * deny answers 400 `guardrail_denied` in the surface's shape with the guardrail's reason; a guardrail that failed
 * closed answers 503 `guardrail_unavailable`. Texts are never logged: the state and the hooks carry only the
 * guardrail, the action and the failure cause.
 */
import { GatewayError } from '../errors.js';
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { requestFacts } from '../protocols/clients.js';
import type { GuardrailRegistry } from './registry.js';
import { requestTexts, withRequestTexts } from './request-texts.js';
import { guardrailIdsFor } from './select.js';
import type { Guardrail, GuardrailPhase, GuardrailVerdict } from './types.js';

const shortName = (id: string) => id.slice(id.lastIndexOf('/') + 1);

/** The client error of a verdict that stops the call. */
export function guardrailError(guardrail: string, verdict: GuardrailVerdict, phase: GuardrailPhase): GatewayError {
  const name = shortName(guardrail);
  if (verdict.failed?.mode === 'closed')
    return new GatewayError(503, 'unavailable', `Guardrail ${name} could not check the ${phase}; retry later.`, {
      code: 'guardrail_unavailable',
      retryAfterMs: 1000,
    });
  const what = phase === 'request' ? 'The request was denied' : 'The answer was withheld';
  return new GatewayError(400, 'invalid_request', `${what} by guardrail ${name} (${verdict.reason ?? 'denied'}).`, {
    code: 'guardrail_denied',
    shouldRetry: false,
  });
}

/** Runs `guardrail` on `texts` for `call`, records the outcome, and returns the verdict. */
export async function runGuardrail(
  call: ProxyCall,
  guardrail: Guardrail,
  phase: GuardrailPhase,
  texts: readonly string[],
  hooks: HookList,
): Promise<GuardrailVerdict> {
  const started = performance.now();
  const verdict = await guardrail.check({
    phase,
    texts,
    requestId: call.state.id,
    model: call.model,
    tenant: call.state.tenant,
  });
  if (verdict.action !== 'allow' || verdict.failed) {
    call.state.guardrails ??= [];
    call.state.guardrails.push({
      guardrail: guardrail.name,
      phase,
      action: verdict.action,
      ...(verdict.failed ? { failed: verdict.failed.cause } : {}),
    });
  }
  hooks.emit('onGuardrail', call, {
    guardrail: guardrail.name,
    kind: guardrail.kind,
    phase,
    action: verdict.action,
    failed: verdict.failed,
    durationMs: performance.now() - started,
  });
  return verdict;
}

/** Creates the request-side guardrail stage. */
export const guardRequest = (registry: GuardrailRegistry, hooks: HookList): CallMiddleware =>
  async function guardRequest(call, next) {
    const ids = guardrailIdsFor(call);
    if (ids.length === 0) return next();
    const set = registry.setFor(call.runtime.config);
    let texts: string[] | undefined;
    let masked = false;
    for (const id of ids) {
      const g = set.get(id);
      if (!g?.phases.has('request')) continue;
      texts ??= requestTexts(call.request);
      const verdict = await runGuardrail(call, g.guardrail, 'request', texts, hooks);
      if (verdict.action === 'deny') throw guardrailError(id, verdict, 'request');
      if (verdict.action === 'mask' && verdict.texts) {
        texts = verdict.texts;
        masked = true;
      }
    }
    if (masked && texts) {
      call.request = withRequestTexts(call.request, texts);
      const prompt = requestFacts(call.request).prompt;
      if (prompt !== undefined) call.prompt = prompt;
    }
    await next();
  };
