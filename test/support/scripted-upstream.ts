/**
 * A scripted upstream for tests that need an answer no well-behaved server gives (malformed events, an error as
 * the first event, giant lines, absurd usage, echoed credentials). Each request is answered by the current script;
 * the simulator (test/sim) stays the model of real servers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { poolManifests } from './manifests.js';

/** What a script sees of the request: method, path, headers and the parsed JSON body (undefined if not JSON). */
export interface ScriptedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Script = (req: ScriptedRequest, res: ServerResponse) => void | Promise<void>;

export interface ScriptedUpstream {
  /** Base URL (no path), e.g. `http://127.0.0.1:1234`. */
  url: string;
  /** Replaces the script answering the next requests. */
  script(fn: Script): void;
  /** Requests received so far (health checks included). */
  readonly received: ScriptedRequest[];
  close(): Promise<void>;
}

/** Answers `GET /health` with 200 and everything else with `initial` (then whatever `script()` sets). */
export async function startScriptedUpstream(initial: Script): Promise<ScriptedUpstream> {
  let current = initial;
  const received: ScriptedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const r: ScriptedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      if (r.path === '/health') {
        res.end('{}');
        return;
      }
      received.push(r);
      Promise.resolve(current(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (fn) => {
      current = fn;
    },
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI chat chunk event (`data: {...}\n\n`) with one choice carrying `delta`. */
export function openAIChunk(delta: Record<string, unknown>, finish: string | null = null): string {
  const chunk = {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** Writes a 200 streamed answer made of `frames` (SSE events or NDJSON lines, already framed) and ends it. */
export function answer(res: ServerResponse, frames: string[], contentType = 'text/event-stream'): void {
  res.writeHead(200, { 'content-type': contentType });
  for (const f of frames) res.write(f);
  res.end();
}

export type Protocol = 'openai' | 'anthropic' | 'ollama';

/** The model served through the scripted upstream by each upstream protocol (upstream model name `up`). */
export const VIA: Record<Protocol, string> = { openai: 'via-openai', anthropic: 'via-anthropic', ollama: 'via-ollama' };

/** The protocol a request to the scripted upstream speaks, from its path. */
export const protocolOf = (req: ScriptedRequest): Protocol =>
  req.path.startsWith('/api/') ? 'ollama' : req.path.startsWith('/v1/messages') ? 'anthropic' : 'openai';

/**
 * Manifests of one pool per upstream protocol over the scripted upstream at `url` (models `VIA[protocol]`), each
 * with `backendSpec`/`poolSpec` (YAML lines) and `extraBackendSpec[protocol]` added.
 */
export function protocolPools(
  url: string,
  spec: { backendSpec: string; poolSpec: string; extraBackendSpec?: Partial<Record<Protocol, string>> },
): string {
  const urls: Record<Protocol, string> = { openai: `${url}/v1`, anthropic: url, ollama: url };
  const providers: Record<Protocol, string> = { openai: 'vllm', anthropic: 'anthropic', ollama: 'ollama' };
  return (['openai', 'anthropic', 'ollama'] as const)
    .map((p) =>
      poolManifests({
        name: p,
        model: VIA[p],
        upstreamName: 'up',
        provider: providers[p],
        urls: [urls[p]],
        poolSpec: spec.poolSpec,
        backendSpec: [spec.backendSpec, spec.extraBackendSpec?.[p]].filter(Boolean).join('\n'),
      }),
    )
    .join('\n---\n');
}

export type Surface = 'openai' | 'anthropic' | 'ollama';

/** A chat request "hi" for `model` to the proxy at `base` on `surface` (streamed or not), with extra body fields. */
export function surfaceChat(
  base: string,
  surface: Surface,
  model: string,
  opts: { stream: boolean; extra?: Record<string, unknown>; headers?: Record<string, string> },
): Promise<Response> {
  const messages = [{ role: 'user', content: 'hi' }];
  const stream = opts.stream;
  const [path, body] =
    surface === 'openai'
      ? ['/v1/chat/completions', { model, messages, stream }]
      : surface === 'anthropic'
        ? ['/v1/messages', { model, messages, stream, max_tokens: 50 }]
        : ['/api/chat', { model, messages, stream }];
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...opts.headers },
    body: JSON.stringify({ ...body, ...opts.extra }),
  });
}
