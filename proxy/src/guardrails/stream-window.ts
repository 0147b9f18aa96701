/**
 * The window of a streamed answer: text arriving for one slot (a choice or block) is held back until
 * `windowChars` more characters followed it, so a finding split across tokens is seen whole before any of it is
 * released. Text leaves in pieces (a quarter of the window, or a whole window when an external guardrail applies);
 * before each piece leaves, local guardrails scan everything held: a deny kind anywhere ends the stream at once; a
 * span to mask that reaches into the window holds the release at its start until it is complete. External guardrails check the text
 * as it leaves the window, in pieces of at least `windowChars` characters (one call per piece), and may mask or deny
 * it. At a non-text event (a finish reason, a block end, the final object) everything held is released, checked.
 */
import type { Span } from './detect/index.js';
import { maskSpans } from './detect/index.js';
import type { LocalGuardrail } from './local.js';
import type { Guardrail, GuardrailVerdict } from './types.js';

/** How one guardrail did over a whole stream (reported once, at its end). */
export interface StreamTally {
  guardrail: Guardrail;
  action: 'allow' | 'mask' | 'deny';
  failed: GuardrailVerdict['failed'];
  durationMs: number;
}

export type Release =
  | { text: string; denied?: undefined }
  | { denied: { guardrail: string; verdict: GuardrailVerdict } };

const STRENGTH = { allow: 0, mask: 1, deny: 2 } as const;

/** Non-overlapping union of sorted-or-not spans (an overlap keeps the earlier span's kind, widened). */
function union(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Held text and guardrail checks of one streamed answer. */
export class StreamWindow {
  private readonly pending = new Map<string, string>();
  readonly tallies: StreamTally[];

  constructor(
    private readonly local: readonly LocalGuardrail[],
    private readonly external: readonly Guardrail[],
    private readonly windowChars: number,
    private readonly check: (g: Guardrail, text: string) => Promise<GuardrailVerdict>,
  ) {
    this.tallies = [...local, ...external].map((guardrail) => ({
      guardrail,
      action: 'allow',
      failed: undefined,
      durationMs: 0,
    }));
  }

  /** Slots with text held back. */
  heldSlots(): string[] {
    return [...this.pending].filter(([, t]) => t.length > 0).map(([k]) => k);
  }

  private tally(g: Guardrail, action: StreamTally['action'], ms: number, failed?: GuardrailVerdict['failed']) {
    const t = this.tallies.find((x) => x.guardrail === g);
    if (!t) return;
    if (STRENGTH[action] > STRENGTH[t.action]) t.action = action;
    t.durationMs += ms;
    if (failed) t.failed = failed;
  }

  /** Adds `text` to `slot` and returns what may leave it now (all of it when `final`), or a denial. */
  async push(slot: string, text: string, final: boolean): Promise<Release> {
    const held = (this.pending.get(slot) ?? '') + text;
    let cut = final ? held.length : Math.max(0, held.length - this.windowChars);
    // Text leaves in pieces (a quarter window, at least 16 characters; external checks: a whole window), so the
    // held text is not scanned again for every token.
    const piece = this.external.length > 0 ? this.windowChars : Math.max(16, this.windowChars >> 2);
    if (!final && cut < piece) {
      this.pending.set(slot, held);
      return { text: '' };
    }
    const mask: Span[] = [];
    for (const g of this.local) {
      const started = performance.now();
      const scan = g.scan(held);
      if (scan.deny) {
        this.tally(g, 'deny', performance.now() - started);
        return { denied: { guardrail: g.name, verdict: { action: 'deny', reason: scan.deny.kind } } };
      }
      for (const s of scan.mask) if (s.start < cut) mask.push(s);
      this.tally(g, scan.mask.some((s) => s.start < cut) ? 'mask' : 'allow', performance.now() - started);
    }
    const spans = union(mask);
    for (const s of spans) if (s.end > cut) cut = Math.min(cut, s.start);
    let released = maskSpans(
      held.slice(0, cut),
      spans.filter((s) => s.end <= cut),
    );
    this.pending.set(slot, held.slice(cut));
    if (released.length === 0) return { text: '' };
    for (const g of this.external) {
      const started = performance.now();
      const verdict = await this.check(g, released);
      this.tally(g, verdict.action, performance.now() - started, verdict.failed);
      if (verdict.action === 'deny') return { denied: { guardrail: g.name, verdict } };
      if (verdict.action === 'mask' && verdict.texts?.[0] !== undefined) released = verdict.texts[0];
    }
    return { text: released };
  }
}
