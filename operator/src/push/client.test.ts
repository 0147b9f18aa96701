import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getServed, PushError } from './client.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** A proxy admin stand-in that drops the connection (no answer) on the `drop`-th request of every connection. */
async function admin(drop: number): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const served = new WeakMap<object, number>();
  server = http.createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n === drop) {
      req.socket.destroy(); // as a server closing an idle kept-alive connection the client just wrote to
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: 'v1', instance: 'i1' }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe('push client', () => {
  it('sends again on a new connection when a kept-alive one turns out closed', async () => {
    const proxy = await admin(2);
    expect((await getServed(proxy.url, 't', 5000)).version).toBe('v1');
    // the second request reuses the first connection, which the proxy drops: sent again on a new one
    expect((await getServed(proxy.url, 't', 5000)).version).toBe('v1');
    expect(proxy.connections()).toBe(2);
  });

  it('does not send again when a new connection fails', async () => {
    const proxy = await admin(1);
    await expect(getServed(proxy.url, 't', 5000)).rejects.toBeInstanceOf(PushError);
    expect(proxy.connections()).toBe(1);
  });
});
