/**
 * The local detector: finds emails, phone numbers, card numbers (Luhn), IBANs (mod-97) and API-key-like secrets in
 * a text, and masks them. Pure and linear in the text's length (every pattern is bounded; see each module). Where
 * findings overlap, the earlier kind in DETECTOR_KINDS order is kept: secrets first, then cards, IBANs, emails
 * and phone numbers (a card number also reads as a phone number; it is reported once, as a card).
 */
import { findCards } from './card.js';
import { findEmails } from './email.js';
import { findIbans } from './iban.js';
import { findPhones } from './phone.js';
import { findSecrets } from './secret.js';
import type { DetectorKind, Span } from './span.js';

export { DETECTOR_KINDS, type DetectorKind, type Span } from './span.js';

/** Detectors in priority order: an overlap keeps the earlier one's span. */
const DETECTORS: ReadonlyArray<readonly [DetectorKind, (text: string) => Span[]]> = [
  ['secret', findSecrets],
  ['card', findCards],
  ['iban', findIbans],
  ['email', findEmails],
  ['phone', findPhones],
];

/**
 * `kept` (sorted, free of overlaps) and the spans of `added` (sorted by start) that overlap neither it nor an earlier
 * span of `added`, in one linear pass.
 */
function mergeKept(kept: Span[], added: Span[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  let addedEnd = 0;
  for (const s of added) {
    while (i < kept.length && (kept[i] as Span).end <= s.start) out.push(kept[i++] as Span);
    const k = kept[i];
    if (s.start >= addedEnd && (k === undefined || k.start >= s.end)) {
      out.push(s);
      addedEnd = s.end;
    }
  }
  while (i < kept.length) out.push(kept[i++] as Span);
  return out;
}

/** The findings of the `kinds` detectors in `text`, sorted by position, without overlaps. */
export function detect(text: string, kinds: ReadonlySet<DetectorKind>): Span[] {
  let kept: Span[] = [];
  for (const [kind, find] of DETECTORS) {
    if (!kinds.has(kind)) continue;
    kept = mergeKept(
      kept,
      find(text).sort((a, b) => a.start - b.start),
    );
  }
  return kept;
}

/** The placeholder a masked finding is replaced with. */
export const maskOf = (kind: DetectorKind): string => `[${kind.toUpperCase()}]`;

/** `text` with every span (sorted, not overlapping, as detect() returns them) replaced by its placeholder. */
export function maskSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + maskOf(s.kind);
    at = s.end;
  }
  return out + text.slice(at);
}
