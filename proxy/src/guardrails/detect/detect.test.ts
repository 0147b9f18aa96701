import { describe, expect, it } from 'vitest';
import { luhnValid } from './card.js';
import { ibanChecksumValid } from './iban.js';
import { DETECTOR_KINDS, type DetectorKind, detect, maskSpans } from './index.js';

const ALL = new Set<DetectorKind>(DETECTOR_KINDS);
const found = (text: string, kinds: ReadonlySet<DetectorKind> = ALL) =>
  detect(text, kinds).map((s) => [s.kind, text.slice(s.start, s.end)]);

describe('local detector', () => {
  it.each([
    ['mail jane.doe+tag@example.co.uk today', 'email', 'jane.doe+tag@example.co.uk'],
    ['card 4111 1111 1111 1111.', 'card', '4111 1111 1111 1111'],
    ['card 5500-0000-0000-0004', 'card', '5500-0000-0000-0004'],
    ['amex 378282246310005', 'card', '378282246310005'],
    ['IBAN DE89 3704 0044 0532 0130 00 is mine', 'iban', 'DE89 3704 0044 0532 0130 00'],
    ['iban gb82west12345698765432', 'iban', 'gb82west12345698765432'],
    ['FR14 2004 1010 0505 0001 3M02 606', 'iban', 'FR14 2004 1010 0505 0001 3M02 606'],
    ['call +1 (555) 123-4567 now', 'phone', '+1 (555) 123-4567'],
    ['ruf +49 30 12345678 an', 'phone', '+49 30 12345678'],
    ['ring +44 20 7946 0958', 'phone', '+44 20 7946 0958'],
    ['call (555) 123-4567', 'phone', '(555) 123-4567'],
    ['call 555-123-4567', 'phone', '555-123-4567'],
    ['030 1234 5678 anrufen', 'phone', '030 1234 5678'],
    ['key sk-proj-abcdefghijklmnopqrstuvwx1234 leaked', 'secret', 'sk-proj-abcdefghijklmnopqrstuvwx1234'],
    [`token ghp_${'a1B2'.repeat(9)}`, 'secret', `ghp_${'a1B2'.repeat(9)}`],
    ['aws AKIAIOSFODNN7EXAMPLE', 'secret', 'AKIAIOSFODNN7EXAMPLE'],
    [`g AIza${'x'.repeat(35)}`, 'secret', `AIza${'x'.repeat(35)}`],
    [
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N',
      'secret',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N',
    ],
    ['config: api_key="Zx81kLmQp0rS2tUv"', 'secret', 'Zx81kLmQp0rS2tUv'],
    ['PASSWORD: hunter2hunter2!x', 'secret', 'hunter2hunter2'],
  ])('finds %j', (text, kind, match) => {
    expect(found(text)).toEqual([[kind, match]]);
  });

  it('finds a PEM private key from its BEGIN to its END marker, or to the end of an unterminated one', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
    expect(found(`key:\n${pem}\nthanks`)).toEqual([['secret', pem]]);
    expect(found('x -----BEGIN PRIVATE KEY-----\nMIIE')).toEqual([['secret', '-----BEGIN PRIVATE KEY-----\nMIIE']]);
  });

  it.each([
    'card 4111 1111 1111 1112',
    'IBAN DE89 3704 0044 0532 0130 01',
    'on 2024-01-15 at 12:30',
    'host 192.168.1.100',
    'order 12345678 shipped',
    'version 1.2.3 and 10.4.17',
    'user@localhost and a@b',
    'the token: was fine, sk-short',
    'password: correcthorse',
    'XX12 3456 7890 1234 56',
  ])('finds nothing in %j', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('reports a card number once, as a card, though it also reads as a phone number', () => {
    expect(found('+4111 1111 1111 1111')).toEqual([['card', '4111 1111 1111 1111']]);
    expect(found('4111 1111 1111 1111', new Set(['phone']))).toEqual([]);
  });

  it('runs only the detectors asked for, and masks what it found', () => {
    const text = 'mail a.b@example.com, card 4111111111111111, iban NL91ABNA0417164300, key AKIAIOSFODNN7EXAMPLE';
    expect(found(text, new Set(['email', 'iban'])).map(([k]) => k)).toEqual(['email', 'iban']);
    expect(maskSpans(text, detect(text, ALL))).toBe('mail [EMAIL], card [CARD], iban [IBAN], key [SECRET]');
  });

  it('checks Luhn and mod-97 as specified', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(ibanChecksumValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanChecksumValid('GB82WEST12345698765433')).toBe(false);
  });

  it('stays linear on hostile input', () => {
    const n = 200_000;
    const inputs = [
      'a'.repeat(n),
      '@'.repeat(n),
      `${'a.'.repeat(n / 2)}@`,
      `a@${'b.'.repeat(n / 2)}`,
      '4'.repeat(n),
      '4 '.repeat(n / 2),
      '+1 '.repeat(n / 3),
      '(12)'.repeat(n / 4),
      'DE89'.repeat(n / 4),
      'sk-'.repeat(n / 3),
      '-----BEGIN '.repeat(n / 11) + 'PRIVATE KEY-----',
      'api_key='.repeat(n / 8),
      'eyJ'.repeat(n / 3),
    ];
    const started = performance.now();
    for (const text of inputs) detect(text, ALL);
    // Quadratic behaviour on any of these would take minutes; linear takes well under a second.
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
