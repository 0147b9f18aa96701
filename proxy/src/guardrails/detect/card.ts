/**
 * Payment card numbers: 13 to 19 digits, grouped by single spaces or dashes or not at all, starting like a card
 * network's number (2-6), and passing the Luhn checksum (which rules out nine in ten random digit strings).
 */
import { type Span, spansOf } from './span.js';

const CANDIDATE = /(?<![0-9][ -]?)[2-6](?:[ -]?[0-9]){12,18}(?![ -]?[0-9])/g;

/** Whether the digits of `s` pass the Luhn check. */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/** The card numbers in `text`. */
export const findCards = (text: string): Span[] => spansOf(CANDIDATE, text, 'card', (m) => luhnValid(m[0]));
