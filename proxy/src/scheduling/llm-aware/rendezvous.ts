/**
 * Affinity that agrees across proxies without talking: every proxy ranks a pool's replicas for a conversation by
 * weighted rendezvous hashing (highest random weight) of the conversation's key, and the best-ranked replica under
 * the load bound is the one its prompt's prefix is sent to. The inputs are the same on every proxy — the prompt and
 * the replicas' keys in the snapshot — so every proxy picks the same replica while loads allow, and a replica
 * joining or leaving moves only the conversations it wins or held (1/n of them).
 *
 * The key of a conversation is its session (header or `user`, when the pool sets one) or the canonical prompt up to
 * the end of its first user message (the `<|role|>` markers of the surfaces' canonical text): every later turn of a
 * chat starts with the same system prompt and first question, so it keeps the key while its prompt grows, and
 * conversations that share only a system prompt get different keys and spread over the replicas (each replica then
 * holds that system prompt once). A prompt without markers (completions, Ollama generate) is keyed by its first
 * prefix block: prompts sharing a long instruction or document go to the same replica until the load bound spreads
 * them, and a prompt that grows keeps its key.
 */

const USER = '<|user|>';

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function mix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text` from 0 to `end`, mixed. */
function hashText(text: string, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

/** The rendezvous seed of a replica (from its key in the snapshot, the same on every proxy). */
export const replicaSeed = (key: string): number => hashText(key);

/**
 * Where a canonical prompt's conversation key ends: after its first user message, else after its first block of
 * `blockChars` characters; never past `maxChars`.
 */
export function conversationEnd(prompt: string, blockChars: number, maxChars: number): number {
  const user = prompt.indexOf(USER);
  if (user < 0) return Math.min(prompt.length, blockChars, maxChars);
  const next = prompt.indexOf('<|', user + USER.length);
  return Math.min(next < 0 ? prompt.length : next, maxChars);
}

/**
 * The conversation key of a request: its session when it has one, else its prompt up to `conversationEnd`;
 * undefined when it has neither (embeddings). Reads at most `maxChars` of the prompt.
 */
export function conversationKey(
  prompt: string | undefined,
  session: string | undefined,
  blockChars: number,
  maxChars: number,
): number | undefined {
  if (session) return hashText(`s\u0000${session}`);
  if (!prompt) return undefined;
  return hashText(prompt, conversationEnd(prompt, blockChars, maxChars));
}

/** Weighted rendezvous score of a replica for a key: the highest wins; a replica of weight w wins w times as often. */
export function rendezvousScore(key: number, seed: number, weight: number): number {
  const u = (mix(key ^ Math.imul(seed, 0x9e3779b1)) + 0.5) / 4294967296;
  return weight / -Math.log(u);
}
