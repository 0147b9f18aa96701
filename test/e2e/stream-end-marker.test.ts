/**
 * A stream ends at its protocol's end marker (`data: [DONE]`, `message_stop`, the `done:true` line): whatever an
 * upstream sends after it (more chunks, garbage, a second end) never reaches the client, and an upstream that keeps
 * the connection open after it does not hold the client's answer until the idle timeout (which would then append
 * an error event to a complete answer and count a failure against the replica).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStream, surfaceOf } from '../fuzz/invariants.js';
import { type HostileUpstream, hostileMarker, startHostileUpstream } from '../sim/hostile/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let hostile: HostileUpstream;
let proxy: TestProxy;
beforeAll(async () => {
  hostile = await startHostileUpstream({ maxHangMs: 30_000 });
  const url = hostile.urls[0] as string;
  const backendSpec = '  timeouts: { idle: 2s }';
  proxy = await startTestProxy(
    [
      poolManifests({ name: 'v', model: 'via-openai', provider: 'vllm', urls: [`${url}/v1`], backendSpec }),
      poolManifests({ name: 'a', model: 'via-anthropic', provider: 'anthropic', urls: [url], backendSpec }),
      poolManifests({ name: 'o', model: 'via-ollama', provider: 'ollama', urls: [url], backendSpec }),
    ].join('\n---\n'),
  );
});
afterAll(async () => {
  await proxy?.stop();
  await hostile?.close();
});

const SURFACES: [string, (text: string) => Record<string, unknown>][] = [
  ['/v1/chat/completions', (t) => ({ messages: [{ role: 'user', content: t }] })],
  ['/v1/completions', (t) => ({ prompt: t })],
  ['/v1/messages', (t) => ({ max_tokens: 9, messages: [{ role: 'user', content: t }] })],
  ['/api/chat', (t) => ({ messages: [{ role: 'user', content: t }] })],
  ['/api/generate', (t) => ({ prompt: t })],
];
const UPSTREAMS = ['via-openai', 'via-anthropic', 'via-ollama'];
const pairs = SURFACES.flatMap(([path, body]) => UPSTREAMS.map((model) => [path, model, body] as const));

describe.each(['after-end', 'hang-after-end'])('an upstream stream with %s', (cls) => {
  it.each(pairs)('%s from %s ends at the end marker', async (path, model, body) => {
    for (let seed = 0; seed < 4; seed++) {
      const res = await fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model, stream: true, ...body(hostileMarker(cls, seed)) }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(readStream(surfaceOf(path), text), text.slice(-200)).toMatchObject({ end: 'clean' });
      expect(text).not.toContain('after-end');
    }
  });
});
