/**
 * Bad input never gets a 5xx: a battery of malformed JSON, wrong types and untranslatable fields sent to every
 * surface's endpoints, for models served by each upstream protocol (OpenAI, Anthropic, Ollama), is answered with
 * a 2xx or a 4xx in the surface's own error shape, streamed or not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let sims: Simulator[] = [];
let proxy: TestProxy;
beforeAll(async () => {
  const v = await startSimulator({ flavour: 'vllm', models: ['sim'] });
  const a = await startSimulator({ flavour: 'anthropic', models: ['claude'] });
  const o = await startSimulator({ flavour: 'ollama', models: ['q'] });
  sims = [v, a, o];
  proxy = await startTestProxy(
    [
      poolManifests({ name: 'v', model: 'mv', upstreamName: 'sim', urls: [`${v.url}/v1`] }),
      poolManifests({ name: 'a', model: 'ma', upstreamName: 'claude', provider: 'anthropic', urls: [a.url] }),
      poolManifests({ name: 'o', model: 'mo', upstreamName: 'q', provider: 'ollama', urls: [o.url] }),
    ].join('\n---\n'),
  );
});
afterAll(async () => {
  await proxy?.stop();
  for (const s of sims) await s.close();
});
const bodies = (m: string): unknown[] => [
  '{',
  '[]',
  'null',
  '"x"',
  '{"model": 1}',
  { model: m },
  { model: m, messages: 'x' },
  { model: m, messages: [1] },
  { model: m, messages: [{ role: 'user', content: [1, 2] }] },
  { model: m, messages: [{ role: 'user', content: { a: 1 } }] },
  { model: m, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:xx' } }] }] },
  {
    model: m,
    messages: [
      { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: '!!' } }] },
    ],
    max_tokens: 5,
  },
  { model: m, messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 1, function: {} }] }] },
  { model: m, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }] },
  { model: m, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: {} }] },
  {
    model: m,
    messages: [
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }] },
    ],
  },
  { model: m, messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function' }] }] },
  { model: m, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'x' }] }], max_tokens: 5 },
  { model: m, messages: [{ role: 'user', content: 'hi' }], tool_choice: { type: 'function' } },
  { model: m, messages: [{ role: 'user', content: 'hi' }], tools: 'x', max_tokens: 5 },
  { model: m, messages: [{ role: 'user', content: 'hi' }], tool_choice: { type: 'tool' }, max_tokens: 5 },
  { model: m, messages: [{ role: 'user', content: 'hi' }], stop: 5, max_tokens: -1 },
  { model: m, prompt: {} },
  { model: m, prompt: 'x', messages: 'x' },
  { model: m, prompt: 'x', messages: [{ role: 'system', content: 1 }] },
  { model: m, prompt: 'Once upon', max_tokens: 8, tools: 'text' },
  { model: m, prompt: 'x', tool_choice: 7, response_format: 'json' },
  { model: m, prompt: [[1, 'a']] },
  { model: m, input: {} },
  { model: m, input: [] },
  { model: m, messages: [{ role: 'user', content: 'hi', images: ['x'] }] },
  { model: m, prompt: 'x', images: 'x' },
  { model: m, messages: [{ role: 'tool', content: 'x' }], max_tokens: 5 },
  {
    model: m,
    messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: [{ type: 'image' }] }] }],
    max_tokens: 5,
  },
  { model: m, system: [{ type: 'image' }], messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
  { model: m, messages: [{ role: 'user', content: 'hi' }], options: 'x' },
  { model: m, messages: [{ role: 'user', content: 'hi' }], format: 5 },
  { model: m, messages: [{ role: 'user', content: 'hi' }], stream: 'yes' },
  { model: m, messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema' } },
  // Responses API bodies: items of unknown or broken shapes, tools chat cannot express, stateful fields.
  { model: m, input: [{ type: 'function_call', call_id: 'c' }] },
  { model: m, input: [{ type: 'function_call_output', output: 'x' }] },
  { model: m, input: [{ type: 'reasoning', summary: 'x' }] },
  { model: m, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
  { model: m, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:xx' }] }] },
  { model: m, input: [{ role: 'critic', content: 'x' }] },
  { model: m, input: [{ type: 'item_reference', id: 'x' }] },
  { model: m, input: 'x', tools: [{ type: 'web_search' }] },
  { model: m, input: 'x', tools: [{ type: 'function' }] },
  { model: m, input: 'x', tool_choice: { type: 'file_search' } },
  { model: m, input: 'x', text: { format: { type: 'grammar' } } },
  { model: m, input: 'x', reasoning: { effort: 'extreme' } },
  { model: m, input: 'x', max_output_tokens: 0 },
  { model: m, input: 'x', previous_response_id: 'resp_1' },
  { model: m, input: 'x', background: true },
  { model: m, input: 'x', prompt: { id: 'pmpt_1' } },
  { model: m, query: 5, documents: ['a'] },
  { model: m, query: 'q', documents: [{}] },
];
const paths = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/rerank',
  '/v1/messages',
  '/v1/messages/count_tokens',
  '/api/chat',
  '/api/generate',
  '/api/embed',
  '/api/embeddings',
  '/api/show',
];
/** Each object body also as a streamed request. */
const withStreams = (list: unknown[]) =>
  list.flatMap((b) => (b !== null && typeof b === 'object' && !Array.isArray(b) ? [b, { ...b, stream: true }] : [b]));

/** The error shape of the surface a path belongs to. */
function inSurfaceShape(path: string, text: string): boolean {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (path.startsWith('/api/')) return typeof j.error === 'string';
  if (path.startsWith('/v1/messages'))
    return j.type === 'error' && typeof (j.error as { type?: unknown })?.type === 'string';
  return typeof (j.error as { message?: unknown })?.message === 'string';
}

it('answers every malformed request with a 2xx or a 4xx in the surface shape, never a 5xx', async () => {
  const bad: string[] = [];
  let refused = 0;
  for (const path of paths)
    for (const m of ['mv', 'ma', 'mo'])
      for (const b of withStreams(bodies(m))) {
        const res = await fetch(`${proxy.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
          body: typeof b === 'string' ? b : JSON.stringify(b),
        });
        const t = await res.text();
        const what = `${res.status} ${path} ${m} ${JSON.stringify(b).slice(0, 150)} -> ${t.slice(0, 200)}`;
        if (res.status >= 500 || res.status < 200) bad.push(what);
        else if (res.status >= 400) {
          refused++;
          if (!inSurfaceShape(path, t)) bad.push(`not in the surface shape: ${what}`);
        }
      }
  expect(bad).toEqual([]);
  expect(refused).toBeGreaterThan(500); // most of the battery is refused, not silently served
}, 120_000);
