/**
 * A stream ends at its protocol's end marker (`data: [DONE]`, `message_stop`, the `done:true` line): whatever an
 * upstream sends after it (more chunks, garbage, a second end) never reaches the client, and an upstream that keeps
 * the connection open after it does not hold the client's answer until the idle timeout (which would then append
 * an error event to a complete answer and count a failure against the replica).
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

describe('after the end marker of an upstream that ends its response there', () => {
  it('reads the rest and reuses the upstream connection for the next stream', async () => {
    const sockets = new Set<Socket>();
    let endBody: (() => Promise<unknown>) | undefined;
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const upstream = createServer((req, res) => {
      if (req.method !== 'POST') return res.writeHead(200).end('{}');
      sockets.add(req.socket);
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${chunk({ role: 'assistant', content: 'hi' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
      // The last chunk of the chunked body comes apart, once the client has its whole answer.
      endBody = () => new Promise((r) => res.end(r));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    const p = await startTestProxy(poolManifests({ name: 'r', model: 'reuse', provider: 'vllm', urls: [url] }));
    try {
      // undici frees a connection a few turns after its response ended: streams follow one another until one
      // arrives on a connection that served an earlier one (closed after each end marker, none ever would).
      let requests = 0;
      while (sockets.size === requests && requests < 10) {
        requests++;
        const res = await fetch(`${p.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'reuse', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
        const text = await res.text();
        expect(readStream('openai', text), text).toMatchObject({ end: 'clean' });
        await endBody?.();
      }
      expect(sockets.size).toBeLessThan(requests);
    } finally {
      await p.stop();
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    }
  });
});
