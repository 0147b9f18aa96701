/**
 * Phone numbers: international (`+` and country code, 8 to 15 digits, single spaces, dots, dashes or an area code in
 * parentheses between groups) and national numbers written as a phone number is (at least three groups, or an area
 * code in parentheses: `(555) 123-4567`, `030 1234 5678`, `555-123-4567`). Bare digit runs are not phone numbers
 * here (they are as often ids, amounts or dates), nor are ISO dates and dotted IP addresses.
 */
import { type Span, spansOf } from './span.js';

const INTERNATIONAL = String.raw`\+[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){2,6}`;
const NATIONAL = String.raw`(?:\([0-9]{2,5}\)[ .-]?|[0-9]{2,5}[ .-])[0-9]{2,5}[ .-]?[0-9]{2,5}`;
const PHONE = new RegExp(
  `(?<![A-Za-z0-9+.()-]|[0-9][ .-])(?:${INTERNATIONAL}|${NATIONAL})(?![A-Za-z0-9]|[ .-][0-9])`,
  'g',
);

const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$|^[0-9]{2}[./-][0-9]{2}[./-][0-9]{4}$/;

function plausible(m: RegExpExecArray): boolean {
  const s = m[0];
  let digits = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) digits++;
  if (s.startsWith('+')) return digits >= 8 && digits <= 15;
  if (digits < 7 || digits > 13 || DATE.test(s)) return false;
  const groups = s.split(/[ .()-]+/).filter((g) => g.length > 0).length;
  return groups >= 3 || s.startsWith('(');
}

/** The phone numbers in `text`. */
export const findPhones = (text: string): Span[] => spansOf(PHONE, text, 'phone', plausible);
