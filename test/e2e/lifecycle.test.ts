/**
 * Proxy lifecycle: SIGTERM drains in-flight streams to completion, standalone mode reloads its manifests (and keeps
 * the last good config on a broken edit), and pushed snapshots are validated before they are served.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_IDLE_MS, DRAIN_SWEEP_MS } from '../../proxy/src/http/connections.js';
import { parseManifests } from '../../shared/src/manifests/parse.js';
import { translate } from '../../shared/src/translate/index.js';
import { freePort } from '../bench/lib.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { FakeClock } from '../support/clock.js';
import { capturedLogger } from '../support/log.js';
import { poolManifests, startTestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['m', 'n'], ttftMs: 5, itlMs: 5 });
});
afterAll(() => sim?.close());

const body = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, ...extra });

describe('SIGTERM', () => {
  it('drains an in-flight stream to completion, refuses new connections, and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-drain-'));
    await writeFile(join(dir, 'm.yaml'), poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }));
    const port = await freePort();
    const admin = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'proxy/src/main.ts',
        '--config',
        join(dir, 'm.yaml'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--admin-port',
        String(admin),
        '--drain-seconds',
        '20',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${admin}/readyz`).catch(() => undefined))?.status === 200,
        20_000,
        'proxy ready',
      );
      sim.setTiming({ itlMs: 60 });
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        body: body('m', { stream: true, max_tokens: 20 }),
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      child.kill('SIGTERM');
      await waitFor(
        async () =>
          await fetch(`http://127.0.0.1:${port}/v1/models`).then(
            () => false,
            () => true,
          ),
        5000,
        'new connections to be refused',
      );
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(text).not.toContain('"error"');
      expect(await exited).toBe(0);
    } finally {
      sim.setTiming({ itlMs: 5 });
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
  it('answers a request on a connection kept alive from before the drain, with Connection: close', async () => {
    // A client with a kept-alive connection sends its next request as soon as (or a little after) the previous
    // answer ends. Closing that connection the moment it is idle races with that request (a reset, seen as a failed
    // request during rolling updates): the draining proxy answers it and closes the connection after the answer.
    // A connection that stays idle is closed after DRAIN_IDLE_MS of the proxy's clock, which the test drives.
    const clock = new FakeClock(0);
    const proxy = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }), { clock });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const quietAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (payload: string, onHeaders?: () => void, via = agent) =>
      new Promise<{ status: number; connection: string | undefined; text: string; socket: Socket }>(
        (resolve, reject) => {
          const req = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent: via }, (res) => {
            onHeaders?.();
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => {
              text += c;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                connection: res.headers.connection,
                text,
                socket: req.socket as Socket,
              }),
            );
          });
          req.on('error', reject);
          req.end(payload);
        },
      );
    try {
      // Another client's connection, idle when the drain begins; that client sends nothing more on it.
      const quiet = await post(body('m'), undefined, quietAgent);
      expect(quiet.connection).toBe('keep-alive');
      const quietClosed = new Promise<void>((r) =>
        quiet.socket.destroyed ? r() : quiet.socket.once('close', () => r()),
      );
      sim.setTiming({ itlMs: 40 });
      let streaming = false;
      const inFlight = post(body('m', { stream: true, max_tokens: 10 }), () => {
        streaming = true;
      });
      await waitFor(() => streaming, 5000, 'the stream to begin (its headers sent before the drain)');
      const closing = proxy.close(10_000);
      const first = await inFlight;
      expect(first.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      // The client pauses before its next request, for almost as long as an idle connection is kept.
      await clock.advance(DRAIN_IDLE_MS - DRAIN_SWEEP_MS);
      const second = await post(body('m'));
      expect(second.socket).toBe(first.socket); // the same connection
      expect(second.status).toBe(200);
      expect(second.connection).toBe('close');
      // Only the drain's sweep on the proxy's clock closes a connection left idle (not the drain's start): the quiet
      // one is still open until it has been idle for DRAIN_IDLE_MS, and the drain ends once it is closed.
      expect(quiet.socket.destroyed).toBe(false);
      await clock.advance(DRAIN_SWEEP_MS);
      await quietClosed;
      await closing;
    } finally {
      sim.setTiming({ itlMs: 5 });
      agent.destroy();
      quietAgent.destroy();
      await proxy.close();
    }
  });
});

describe('standalone mode', () => {
  it('reloads the manifests file and keeps the last good config on a broken edit', async () => {
    const { log, records } = capturedLogger();
    const proxy = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }), { log });
    /** Waits until the proxy has read an edit and refused it, for the reason `why` matches. */
    const refused = (why: RegExp) =>
      waitFor(
        () => records.some((r) => r.msg?.startsWith('configuration reload failed') && why.test(String(r.err))),
        5000,
        `the edit to be refused (${why})`,
      );
    const post = (model: string) => fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: body(model) });
    try {
      expect((await post('m')).status).toBe(200);
      expect((await post('n')).status).toBe(404);
      await proxy.writeManifests(poolManifests({ model: 'n', urls: [`${sim.url}/v1`] }));
      await waitFor(async () => (await post('n')).status === 200, 5000, 'reload');
      expect((await post('m')).status).toBe(404);
      const version = proxy.store.current?.config.version;
      await proxy.writeManifests(
        'apiVersion: switchyard.dev/v1alpha1\nkind: LLMPool\nmetadata: { name: x }\nspec: { model: 1 }\n',
      );
      await refused(/spec\.model: Invalid input/);
      expect(proxy.store.current?.config.version).toBe(version);
      expect((await post('n')).status).toBe(200);
      // Valid YAML whose new pool names a backend that does not exist: the whole edit is kept out, not served
      // half-translated (model `o` would be served if it were).
      await proxy.writeManifests(
        `${poolManifests({ model: 'o', urls: [`${sim.url}/v1`] })}---\napiVersion: switchyard.dev/v1alpha1\nkind: LLMPool\nmetadata: { name: ghost }\nspec: { model: ghost, backendRefs: [{ name: missing }] }\n`,
      );
      await refused(/LLMBackend default\/missing does not exist/);
      expect(proxy.store.current?.config.version).toBe(version);
      expect((await post('n')).status).toBe(200);
      expect((await post('o')).status).toBe(404);
    } finally {
      await proxy.stop();
    }
  });
});

describe('snapshot push over the network', () => {
  it('swaps to a pushed snapshot, refuses an invalid one and keeps serving', async () => {
    const proxy = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }));
    const push = (snapshot: unknown, token = 'test-push-token') =>
      fetch(`${proxy.adminUrl}/config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(snapshot),
      });
    try {
      const next = translate(parseManifests(poolManifests({ model: 'n', urls: [`${sim.url}/v1`] }))).config;
      expect((await push(next, 'nope')).status).toBe(401);
      expect((await push(next)).status).toBe(200);
      const post = (model: string) => fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', body: body(model) });
      expect((await post('n')).status).toBe(200);
      const res = await push({ ...next, version: 'not-a-hash' });
      expect(res.status).toBe(422);
      expect((await post('n')).status).toBe(200);
      const cfg = (await (await fetch(`${proxy.adminUrl}/config`)).json()) as { version: string };
      expect(cfg.version).toBe(next.version);
    } finally {
      await proxy.stop();
    }
  });
});
