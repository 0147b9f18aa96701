/**
 * The guardrail stages. Request side: after authentication (tenants name guardrails) and before the system prompt,
 * limits and the cache read the body, every guardrail that applies to the call (select.ts) checks the client's
 * texts, in order, before any upstream attempt. A mask replaces the texts the next guardrail and the upstream see; a
 * deny answers 400 `guardrail_denied` in the surface's shape with the guardrail's reason; a guardrail that failed
 * closed answers 503 `guardrail_unavailable`. Texts are never logged: the record and the observers get only the
 * guardrail, the action and the failure cause.
 */
import type { AuthorizedCall, Call, Stage } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import { GatewayError } from '../errors.js';
import { clientStreamError, requestFacts } from '../protocols/clients.js';
import type { GuardrailRegistry } from './registry.js';
import { requestTexts, withRequestTexts } from './request-texts.js';
import { GuardSink, splitGuardrails } from './response-sink.js';
import { guardrailIdsFor } from './select.js';
import { StreamWindow } from './stream-window.js';
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

/** Records one guardrail decision of `call`: in its record (unless a plain allow) and for the observers. */
function recordDecision(
  call: Call,
  observers: Observers,
  guardrail: Guardrail,
  phase: GuardrailPhase,
  verdict: Pick<GuardrailVerdict, 'action' | 'failed'>,
  durationMs: number,
): void {
  if (verdict.action !== 'allow' || verdict.failed) {
    call.record.guardrails.push({
      guardrail: guardrail.name,
      phase,
      action: verdict.action,
      ...(verdict.failed ? { failed: verdict.failed.cause } : {}),
    });
  }
  observers.emit('onGuardrail', call, {
    guardrail: guardrail.name,
    kind: guardrail.kind,
    phase,
    action: verdict.action,
    failed: verdict.failed,
    durationMs,
  });
}

const checkOf = (call: Call, phase: GuardrailPhase, texts: readonly string[]) => ({
  phase,
  texts,
  requestId: call.record.id,
  model: call.model,
  tenant: call.record.caller?.tenant,
});

/** Runs `guardrail` on `texts` for `call`, records the outcome, and returns the verdict. */
export async function runGuardrail(
  call: Call,
  guardrail: Guardrail,
  phase: GuardrailPhase,
  texts: readonly string[],
  observers: Observers,
): Promise<GuardrailVerdict> {
  const started = performance.now();
  const verdict = await guardrail.check(checkOf(call, phase, texts));
  recordDecision(call, observers, guardrail, phase, verdict, performance.now() - started);
  return verdict;
}

/** The guardrails of `call` that check `phase`, and the widest stream window among them. */
function guardrailsOf(call: AuthorizedCall, registry: GuardrailRegistry, phase: GuardrailPhase) {
  const ids = guardrailIdsFor(call);
  if (ids.length === 0) return { guardrails: [], windowChars: 0 };
  const set = registry.setFor(call.runtime.config);
  const compiled = ids.flatMap((id) => {
    const g = set.get(id);
    return g?.phases.has(phase) ? [g] : [];
  });
  return {
    guardrails: compiled.map((g) => g.guardrail),
    windowChars: Math.max(0, ...compiled.map((g) => g.streamWindowChars)),
  };
}

/**
 * Creates the response-side guardrail stage (innermost: it sees the answer first, and the cache stores what it let
 * through). Whole answers are checked before their head is sent: a denial answers 400 `guardrail_denied` in the
 * surface's shape. Streams flow through the guardrails' window (stream-window.ts); a denial ends the stream with
 * the surface's error event and aborts the upstream. Each guardrail's decision over a stream is reported once.
 */
export const guardResponse = <C extends AuthorizedCall>(registry: GuardrailRegistry, observers: Observers): Stage<C> =>
  async function guardResponse(call, next) {
    const { guardrails, windowChars } = guardrailsOf(call, registry, 'response');
    if (guardrails.length === 0) return next(call);
    const { local, external } = splitGuardrails(guardrails);
    const window = new StreamWindow(local, external, windowChars, (g, text) =>
      g.check(checkOf(call, 'response', [text])),
    );
    const sink = new GuardSink(call.sink, {
      operation: call.request.operation,
      window,
      checkAnswer: async (texts) => {
        let current = texts;
        for (const g of guardrails) {
          const v = await runGuardrail(call, g, 'response', current, observers);
          if (v.action === 'deny') return { denied: { guardrail: g.name, verdict: v } };
          if (v.action === 'mask' && v.texts) current = v.texts;
        }
        return { texts: current };
      },
      streamError: (d) => guardrailError(d.guardrail, d.verdict, 'response'),
      renderStreamError: (e, sequence) => clientStreamError(call.request.operation, call.surface, e, sequence),
    });
    try {
      await next({ ...call, sink });
    } finally {
      await sink.settled();
    }
    const streamed = call.stream && sink.headSent;
    if (streamed)
      for (const t of window.tallies)
        recordDecision(call, observers, t.guardrail, 'response', { action: t.action, failed: t.failed }, t.durationMs);
    const denial = sink.denial;
    if (!denial) return;
    if (streamed) call.record.streamError = 'guardrail_denied';
    else throw guardrailError(denial.guardrail, denial.verdict, 'response');
  };

/** Creates the request-side guardrail stage. */
export const guardRequest = (registry: GuardrailRegistry, observers: Observers): Stage<AuthorizedCall> =>
  async function guardRequest(call, next) {
    const ids = guardrailIdsFor(call);
    if (ids.length === 0) return next(call);
    const set = registry.setFor(call.runtime.config);
    let texts: string[] | undefined;
    let masked = false;
    for (const id of ids) {
      const g = set.get(id);
      if (!g?.phases.has('request')) continue;
      texts ??= requestTexts(call.request);
      const verdict = await runGuardrail(call, g.guardrail, 'request', texts, observers);
      if (verdict.action === 'deny') throw guardrailError(id, verdict, 'request');
      if (verdict.action === 'mask' && verdict.texts) {
        texts = verdict.texts;
        masked = true;
      }
    }
    if (!masked || !texts) return next(call);
    const request = withRequestTexts(call.request, texts);
    await next({ ...call, request, prompt: requestFacts(request).prompt ?? call.prompt });
  };
