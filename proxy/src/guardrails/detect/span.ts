/** What the local detector finds: the kinds of sensitive data (the RoutePolicy's), and where one stands in a text. */
import type { DetectorKind } from '../../../../shared/src/api/v1alpha1/index.js';

export { DETECTOR_KINDS, type DetectorKind } from '../../../../shared/src/api/v1alpha1/index.js';

/** One occurrence: `text.slice(start, end)`. */
export interface Span {
  kind: DetectorKind;
  start: number;
  end: number;
}

/** Every match of a global regular expression as spans (`group`: the span of that capture group instead). */
export function spansOf(
  re: RegExp,
  text: string,
  kind: DetectorKind,
  accept?: (m: RegExpExecArray) => boolean,
): Span[] {
  const out: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (!accept || accept(m)) out.push({ kind, start: m.index, end: m.index + m[0].length });
  }
  return out;
}
