/** Scrubs credentials out of upstream messages before they reach a client, a log or a metric. */

const KEY_PATTERNS = [/sk-[A-Za-z0-9_\-*]{6,}/g, /Bearer\s+[A-Za-z0-9._\-~+/]+=*/gi];

/** `text` with `secret` and anything shaped like an API key replaced by `[redacted]`. */
export function scrubSecrets(text: string, secret?: string): string {
  let out = secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
  for (const p of KEY_PATTERNS) out = out.replace(p, '[redacted]');
  return out;
}
