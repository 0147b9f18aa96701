/**
 * The built-in guardrail: the local detector (detect/) over every text. Any finding of a `deny` kind denies (the
 * reason names the kind); otherwise findings of `mask` kinds are replaced by placeholders (`[EMAIL]`, `[CARD]`, …).
 * Runs in-process: no I/O, no failure mode.
 */
import { type DetectorKind, detect, maskSpans, type Span } from './detect/index.js';
import type { Guardrail, GuardrailInput, GuardrailVerdict } from './types.js';

export interface LocalGuardrailConfig {
  mask: readonly DetectorKind[];
  deny: readonly DetectorKind[];
}

/** Checks `texts` with the local detector under `config`. */
export function checkLocal(config: LocalGuardrailConfig, texts: readonly string[]): GuardrailVerdict {
  const kinds = new Set<DetectorKind>([...config.deny, ...config.mask]);
  const deny = new Set(config.deny);
  let masked: string[] | undefined;
  for (const [i, text] of texts.entries()) {
    const spans = detect(text, kinds);
    if (spans.length === 0) continue;
    const denied = spans.find((s) => deny.has(s.kind));
    if (denied) return { action: 'deny', reason: denied.kind };
    masked ??= [...texts];
    masked[i] = maskSpans(text, spans);
  }
  return masked ? { action: 'mask', texts: masked } : { action: 'allow' };
}

/** Findings in one text: the first of a deny kind (if any), and the spans to mask. */
export interface LocalScan {
  deny: Span | undefined;
  mask: Span[];
}

/** Scans `text` under `config` without changing it (streamed answers mask what they release). */
export function scanLocal(config: LocalGuardrailConfig, text: string): LocalScan {
  const deny = new Set(config.deny);
  const spans = detect(text, new Set<DetectorKind>([...config.deny, ...config.mask]));
  return { deny: spans.find((s) => deny.has(s.kind)), mask: spans.filter((s) => !deny.has(s.kind)) };
}

/** A local guardrail: also scans texts in place, for streamed answers. */
export interface LocalGuardrail extends Guardrail {
  readonly kind: 'local';
  scan(text: string): LocalScan;
}

/** A local-detector guardrail named `name`. */
export function localGuardrail(name: string, config: LocalGuardrailConfig): LocalGuardrail {
  return {
    name,
    kind: 'local',
    check: (input: GuardrailInput) => Promise.resolve(checkLocal(config, input.texts)),
    scan: (text) => scanLocal(config, text),
  };
}
