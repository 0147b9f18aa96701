/**
 * Email addresses: a local part and a dotted domain with an alphabetic top-level label. Every quantifier is bounded
 * and a match only starts where a local part can start, so the scan stays linear on hostile input.
 */
import { type Span, spansOf } from './span.js';

const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

/** The email addresses in `text`. */
export const findEmails = (text: string): Span[] => spansOf(EMAIL, text, 'email');
