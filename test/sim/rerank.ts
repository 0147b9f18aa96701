/**
 * `POST /v1/rerank` (also `/rerank`), the Jina/Cohere-style endpoint of vLLM and llama.cpp. Scores are deterministic:
 * the share of the query's words found in the document, plus a small seeded offset so ties are stable.
 * - vLLM 0.34 (`vllm/entrypoints/pooling/scoring/protocol.py`): `{id:"rerank-…", model, usage:{prompt_tokens,
 *   total_tokens}, results:[{index, document:{text}, relevance_score}]}`, ordered by score, `top_n` 0 = all.
 * - llama.cpp 0c1e570 (`tools/server/server-context.cpp` `post_rerank`, `format_response_rerank`): only with
 *   `--reranking` (else 501 `not_supported_error`); `{model, object:"list", usage, results:[{index,
 *   relevance_score}]}`, documents must be strings, `top_n` defaults to all.
 */
import type { Exchange } from './exchange.js';
import type { OpenAIDialect } from './flavours/openai-dialect.js';
import { resolveModel } from './flavours/openai-resources.js';
import { isRecord } from './flavours/prompt.js';
import { countTokens, hashString, randomHex } from './tokens.js';

const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);

/** Relevance of `doc` to `query` in [0, 1): shared words over the query's words, ties broken by a seeded offset. */
export function relevance(query: string, doc: string): number {
  const q = words(query);
  const d = words(doc);
  let shared = 0;
  for (const w of q) if (d.has(w)) shared++;
  const base = q.size ? shared / q.size : 0;
  return Math.round((base * 0.9 + (hashString(`${query}\u0000${doc}`) % 1000) / 10_000) * 1e6) / 1e6;
}

function documentText(d: unknown): string | null {
  if (typeof d === 'string') return d;
  return isRecord(d) && typeof d.text === 'string' ? d.text : null;
}

/** Serves a rerank request in the dialect's shape. */
export async function rerank(ex: Exchange, d: OpenAIDialect): Promise<void> {
  const llama = d.name === 'llamacpp';
  if (llama && !ex.rt.opts.reranking)
    return ex.error(501, 'This server does not support reranking. Start it with `--reranking`');
  const b = ex.body;
  if (!isRecord(b)) return ex.error(400, 'The request body must be a JSON object.');
  const model = resolveModel(ex, d, b.model);
  if (model === null) return;
  if (typeof b.query !== 'string')
    return ex.error(400, b.query === undefined ? '"query" must be provided' : '"query" must be a string', 'query');
  const docs = Array.isArray(b.documents)
    ? b.documents.map((x) => (llama && typeof x !== 'string' ? null : documentText(x)))
    : [];
  if (docs.length === 0 || docs.some((x) => x === null))
    return ex.error(400, '"documents" must be a non-empty string array', 'documents');
  const topN = b.top_n ?? (llama ? docs.length : 0);
  if (!Number.isInteger(topN) || (topN as number) < 0)
    return ex.error(400, "'top_n' must be a non-negative integer.", 'top_n');
  if (ex.rt.timing.ttftMs > 0 && !(await ex.sleep(ex.rt.timing.ttftMs))) return;
  if (ex.fault?.resetAfterChunks !== undefined) return ex.reset();
  const query = b.query;
  let tokens = 0;
  const scored = (docs as string[]).map((text, index) => {
    tokens += countTokens(query) + countTokens(text) + 2;
    const score = relevance(query, text);
    return llama ? { index, relevance_score: score } : { index, document: { text }, relevance_score: score };
  });
  scored.sort((x, y) => y.relevance_score - x.relevance_score);
  const results = (topN as number) > 0 ? scored.slice(0, topN as number) : scored;
  ex.rt.counters.tokensIn += tokens;
  const usage = { prompt_tokens: tokens, total_tokens: tokens };
  if (llama) ex.json(200, { model: b.model ?? model, object: 'list', usage, results });
  else ex.json(200, { id: `rerank-${randomHex(32)}`, model, usage, results });
}
