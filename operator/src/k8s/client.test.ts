import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { Informer } from '../runtime/informer.js';
import { createKubeClient, type KubeClientOptions, type WatchEvent } from './client.js';
import type { KubeObject } from './objects.js';
import { SERVICES } from './resources.js';

/** A local "apiserver" answering each request with `handler`; every connection is closed after the test. */
async function apiserver(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const client = (server: string, opts?: KubeClientOptions) =>
  createKubeClient({ server, credentials: async () => ({ headers: {}, tls: {} }) }, opts);

const event = (type: WatchEvent['type'], name: string, rv: string) =>
  `${JSON.stringify({ type, object: { metadata: { name, namespace: 'ns', resourceVersion: rv } } })}\n`;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe('KubeClient.watch on a silent connection', () => {
  it('gives up when no byte arrived for timeoutSeconds plus the grace', async () => {
    const url = await apiserver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(event('ADDED', 'a', '5')); // then nothing, and the connection stays open
    });
    const seen: WatchEvent[] = [];
    const t0 = Date.now();
    const watch = client(url, { watchGraceMs: 200 }).watch(
      '/api/v1/services',
      { timeoutSeconds: 1 },
      (e) => seen.push(e),
      new AbortController().signal,
    );
    await expect(watch).rejects.toThrow(/no data for 1200 ms/);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1150);
    expect(seen.map((e) => e.type)).toEqual(['ADDED']);
  });

  it('also when the response headers never come', async () => {
    const url = await apiserver(() => {}); // accepts, never answers
    const t0 = Date.now();
    const watch = client(url, { watchGraceMs: 200 }).watch(
      '/api/v1/services',
      { timeoutSeconds: 1 },
      () => {},
      new AbortController().signal,
    );
    await expect(watch).rejects.toThrow(/no data for 1200 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1150);
  });

  it('keeps a watch that receives data (bookmarks) more often than that, until the server ends it', async () => {
    const url = await apiserver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(event('BOOKMARK', '', String(++n)));
        if (n === 6) {
          clearInterval(timer);
          res.end();
        }
      }, 300); // 1.8 s in all, longer than the 1.2 s idle limit
    });
    const seen: WatchEvent[] = [];
    await client(url, { watchGraceMs: 200 }).watch(
      '/api/v1/services',
      { timeoutSeconds: 1 },
      (e) => seen.push(e),
      new AbortController().signal,
    );
    expect(seen).toHaveLength(6);
  });

  it('lets an informer recover: the stalled watch is dropped and the next one resumes from its resourceVersion', async () => {
    const watches: string[] = [];
    const url = await apiserver((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (q.get('watch') !== 'true') {
        res.end(JSON.stringify({ metadata: { resourceVersion: '7' }, items: [] }));
        return;
      }
      watches.push(`rv=${q.get('resourceVersion')} timeoutSeconds=${q.get('timeoutSeconds')}`);
      if (watches.length === 1) {
        res.write(''); // headers flushed, then silence: a dropped connection
        res.flushHeaders();
        return;
      }
      res.write(event('ADDED', 'late', '8'));
    });
    const informer = new Informer<KubeObject>(client(url, { watchGraceMs: 200 }), SERVICES, {
      watchTimeoutSeconds: 1,
    });
    informer.start();
    cleanup.push(() => informer.stop());
    await informer.synced;
    await waitFor(() => informer.get('ns/late') !== undefined, 5000, 'the event of the second watch');
    expect(watches).toEqual(['rv=7 timeoutSeconds=1', 'rv=7 timeoutSeconds=1']);
  });
});
