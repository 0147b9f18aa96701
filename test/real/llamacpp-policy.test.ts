/**
 * Real upstream: a RoutePolicy system prompt reaches a real llama.cpp `llama-server`, which counts it — the prompt
 * token count of a request grows by the system prompt's tokens, exactly as if the client had sent the same system
 * message (chat) or the same text before its prompt (legacy completions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type LlamaServer, startLlamaServer } from './llamacpp/index.js';
import { CHAT_MODEL, fetchFresh, REAL_SETUP_TIMEOUT_MS, realManifests } from './support.js';

const TEXT = 'You are the support assistant of Example Corp. Answer briefly and politely.';
const USER = 'Tell me about the sea.';

let server: LlamaServer;
let proxy: TestProxy;

beforeAll(async () => {
  server = await startLlamaServer();
  const policy = `
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: support }
spec:
  rules:
    - match: { model: { value: ${CHAT_MODEL} }, headers: [{ name: x-assistant, value: support }] }
      systemPrompt: { text: "${TEXT}", mode: prepend }
`;
  proxy = await startTestProxy(`${realManifests({ chat: [server] })}${policy}`);
}, REAL_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

/** The prompt tokens the server reported for one request through the proxy. */
async function promptTokens(path: string, body: Record<string, unknown>, routed: boolean): Promise<number> {
  const res = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(routed ? { 'x-assistant': 'support' } : {}) },
    body: JSON.stringify({ model: CHAT_MODEL, max_tokens: 2, ...body }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
}

/** How many tokens the server's tokenizer makes of `content` (no special tokens). */
async function tokens(content: string): Promise<number> {
  const res = await fetchFresh(`${server.url}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content }),
  });
  return ((await res.json()) as { tokens: unknown[] }).tokens.length;
}

describe('system prompt → llama-server', () => {
  it('grows a chat prompt by the system message, as if the client had sent it', async () => {
    const user = { role: 'user', content: USER };
    const bare = await promptTokens('/v1/chat/completions', { messages: [user] }, false);
    const routed = await promptTokens('/v1/chat/completions', { messages: [user] }, true);
    const sent = await promptTokens(
      '/v1/chat/completions',
      { messages: [{ role: 'system', content: TEXT }, user] },
      false,
    );
    expect(routed).toBe(sent);
    expect(routed - bare).toBeGreaterThanOrEqual(await tokens(TEXT));
  });

  it('grows a completions prompt by exactly the system prompt and its separator', async () => {
    const bare = await promptTokens('/v1/completions', { prompt: USER }, false);
    const routed = await promptTokens('/v1/completions', { prompt: USER }, true);
    expect(routed).toBe(await promptTokens('/v1/completions', { prompt: `${TEXT}\n\n${USER}` }, false));
    expect(routed - bare).toBe((await tokens(`${TEXT}\n\n${USER}`)) - (await tokens(USER)));
  });
});
