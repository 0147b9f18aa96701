/**
 * IBANs: a country code, two check digits and the country's BBAN, written in one run or in groups of four, checked
 * against the country's length (ISO 13616 registry) and the mod-97 checksum. Upper or lower case.
 */
import type { Span } from './span.js';

/** IBAN length per country (the ISO 13616 registry). */
const LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

const CANDIDATE = /(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,31}/g;

/** Whether `iban` (no spaces, upper case) passes the mod-97 check. */
export function ibanChecksumValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (c >= 48 && c <= 57) rest = (rest * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rest = (rest * 100 + (c - 55)) % 97;
    else return false;
  }
  return rest === 1;
}

/** The IBAN at the start of `m` (a candidate match), as its end offset within `m`, or -1. */
function ibanEnd(m: string): number {
  const length = LENGTHS[m.slice(0, 2).toUpperCase()];
  if (length === undefined) return -1;
  let compact = '';
  let i = 0;
  for (; i < m.length && compact.length < length; i++) if (m[i] !== ' ') compact += m[i];
  if (compact.length < length) return -1;
  // The IBAN must end where its characters end, not inside a longer run of letters and digits.
  const next = m[i];
  if (next !== undefined && next !== ' ') return -1;
  return ibanChecksumValid(compact.toUpperCase()) ? i : -1;
}

/** The IBANs in `text`. */
export function findIbans(text: string): Span[] {
  const out: Span[] = [];
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const end = ibanEnd(m[0]);
    if (end < 0) continue;
    out.push({ kind: 'iban', start: m.index, end: m.index + end });
    CANDIDATE.lastIndex = m.index + end;
  }
  return out;
}
