/**
 * API-key-like secrets: tokens with a vendor's well-known prefix (OpenAI/Anthropic `sk-`, GitHub, GitLab, Slack,
 * AWS access key ids, Google API keys), JSON Web Tokens, PEM private keys, and the value of an assignment to a
 * key-, token-, secret- or password-named field when it looks generated (letters and digits, 12+ characters).
 * Quantifiers are bounded; private keys are found by their markers, each marker read once.
 */
import { type Span, spansOf } from './span.js';

const PREFIXED = new RegExp(
  [
    'sk-[A-Za-z0-9_-]{20,256}',
    'gh[pousr]_[A-Za-z0-9]{36,255}',
    'github_pat_[A-Za-z0-9_]{22,255}',
    'glpat-[A-Za-z0-9_-]{20,255}',
    'xox[abposr]-[A-Za-z0-9-]{10,255}',
    '(?:AKIA|ASIA)[A-Z0-9]{16}',
    'AIza[A-Za-z0-9_-]{35}',
    'eyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,8192}\\.[A-Za-z0-9_-]{8,4096}',
  ]
    .map((p) => `(?:${p})`)
    .join('|')
    .replace(/^/, '(?<![A-Za-z0-9_-])(?:')
    .concat(')(?![A-Za-z0-9_-])'),
  'g',
);

const ASSIGNED =
  /(?<![A-Za-z0-9])(?:api[_-]?key|access[_-]?key|secret(?:[_-]?key)?|token|passw(?:or)?d|credentials?)["']?[ \t]{0,3}[:=][ \t]{0,3}["']?([A-Za-z0-9_\-./+=]{12,256})/dgi;

const LETTER = /[A-Za-z]/;
const NON_LETTER = /[0-9_\-./+=]/;

function assignedValues(text: string): Span[] {
  const out: Span[] = [];
  ASSIGNED.lastIndex = 0;
  for (let m = ASSIGNED.exec(text); m !== null; m = ASSIGNED.exec(text)) {
    const value = m[1] ?? '';
    const at = m.indices?.[1];
    if (at && LETTER.test(value) && NON_LETTER.test(value)) out.push({ kind: 'secret', start: at[0], end: at[1] });
  }
  return out;
}

const BEGIN = '-----BEGIN ';
const KEY_END = 'PRIVATE KEY-----';
const END = '-----END ';

/**
 * PEM private key blocks, BEGIN to END marker (to the end of the text when the END marker is missing). The next
 * occurrence of each marker is remembered, so the text is searched once whatever it holds.
 */
function privateKeys(text: string): Span[] {
  const out: Span[] = [];
  const next = new Map<string, number>();
  const find = (marker: string, from: number) => {
    const known = next.get(marker);
    if (known !== undefined && (known < 0 || known >= from)) return known;
    const at = text.indexOf(marker, from);
    next.set(marker, at);
    return at;
  };
  let from = 0;
  for (;;) {
    const start = find(BEGIN, from);
    if (start < 0) return out;
    const header = find(KEY_END, start);
    if (header < 0) return out;
    if (header - start > 60) {
      from = start + BEGIN.length;
      continue;
    }
    const footer = find(END, header);
    const close = footer < 0 ? -1 : find(KEY_END, footer);
    const end = close < 0 ? text.length : close + KEY_END.length;
    out.push({ kind: 'secret', start, end });
    from = end;
  }
}

/** The secrets in `text`. */
export const findSecrets = (text: string): Span[] => [
  ...privateKeys(text),
  ...spansOf(PREFIXED, text, 'secret'),
  ...assignedValues(text),
];
