/**
 * Reading a client's API key from the headers each surface's SDKs send: `x-api-key` (Anthropic), `Authorization:
 * Bearer <key>` (OpenAI, Ollama clients, Anthropic `authToken`), or a bare `Authorization: <key>`. The key is only
 * ever hashed; it must never be logged, stored or echoed.
 */
import { createHash } from 'node:crypto';

/** The API key the client presented, if any. */
export function readApiKey(header: (name: string) => string | undefined): string | undefined {
  const apiKey = header('x-api-key')?.trim();
  if (apiKey) return apiKey;
  const auth = header('authorization')?.trim();
  if (!auth) return undefined;
  const space = auth.indexOf(' ');
  if (space < 0) return auth.toLowerCase() === 'bearer' ? undefined : auth;
  const scheme = auth.slice(0, space).toLowerCase();
  if (scheme !== 'bearer') return undefined;
  const token = auth.slice(space + 1).trim();
  return token || undefined;
}

/** SHA-256 hex of a key: the form keys are compared and counted in (same as the snapshot's keyHashes). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
