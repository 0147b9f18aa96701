/**
 * A slow client is not a failing upstream (issue 13, item 4): a client that stops reading a stream pauses the
 * upstream by backpressure, and the idle limit then measures the client — when it runs out the client's connection
 * is closed, and the replica is neither counted as failed nor ejected, nothing is retried and no retry budget is
 * spent. A client that aborts is never a replica failure either.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { openAIChunk, type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { waitFor } from '../support/wait.js';

let upstream: ScriptedUpstream;
let proxy: TestProxy;
/** Upstream answers the proxy closed before they ended. */
let abandoned = 0;

beforeAll(async () => {
  // An endless answer of 16 KiB content events, written as fast as the proxy takes them (respecting backpressure).
  // Asked to `wait`, it sends nothing at all until the proxy hangs up.
  upstream = await startScriptedUpstream((req, res) => {
    let open = true;
    res.on('close', () => {
      open = false;
      if (!res.writableFinished) abandoned++;
    });
    if (JSON.stringify(req.body).includes('wait')) return;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = openAIChunk({ content: 'x'.repeat(16 * 1024) });
    const pump = () => {
      while (open && res.write(event));
      if (open) res.once('drain', pump);
    };
    res.write(openAIChunk({ role: 'assistant', content: '' }));
    pump();
  });
  proxy = await startTestProxy(
    poolManifests({
      model: 'm',
      urls: [`${upstream.url}/v1`],
      backendSpec: '  healthCheck: { enabled: false }\n  timeouts: { idle: 300ms }',
      poolSpec: '  outlierDetection: { consecutiveFailures: 1 }\n  retry: { attempts: 3 }',
    }),
  );
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

/** Sends a streamed chat saying `content` on a raw socket. */
function sendStream(content: string): Socket {
  const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content }] });
  const socket = connect(proxy.port, '127.0.0.1', () => {
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  socket.on('error', () => undefined);
  return socket;
}

/** A streamed chat on a raw socket, once the first bytes of the answer arrived. */
function openStream(): Promise<Socket> {
  const socket = sendStream('hi');
  return new Promise((resolve) => socket.once('data', () => resolve(socket)));
}

async function replicaCounters() {
  const m = await scrape(proxy.adminUrl);
  return {
    ejections: sampleSum(m, 'switchyard_endpoint_ejections_total'),
    retries: sampleSum(m, 'switchyard_retries_total'),
    failures: ['timeout', 'stream_error', 'connect_failure', 'server_error'].reduce(
      (n, outcome) => n + sampleSum(m, 'switchyard_upstream_attempts_total', { outcome }),
      0,
    ),
  };
}

describe('a client that stops reading', () => {
  it('is closed after the idle limit; the replica is not failed, ejected or retried', async () => {
    const before = await replicaCounters();
    const received = upstream.received.length;
    const abandonedBefore = abandoned;
    const socket = await openStream();
    socket.pause(); // stop reading: the proxy's writes back up, then the upstream is paused
    await waitFor(() => abandoned > abandonedBefore, 10_000, 'the proxy to give up on the stalled client');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    await closed;
    const after = await replicaCounters();
    expect(after.failures - before.failures).toBe(0);
    expect(after.ejections - before.ejections).toBe(0);
    expect(after.retries - before.retries).toBe(0);
    expect(upstream.received.length).toBe(received + 1);
    const endpoints = (await (await fetch(`${proxy.adminUrl}/config/endpoints`)).json()) as {
      endpoints: Array<{ ejected?: boolean; up?: boolean }>;
    };
    expect(JSON.stringify(endpoints)).not.toMatch(/"ejected":true/);
    // The replica keeps serving.
    const next = await openStream();
    next.destroy();
  });

  it('a client that aborts before the first byte is not a replica failure either', async () => {
    const before = await replicaCounters();
    const received = upstream.received.length;
    const abandonedBefore = abandoned;
    const socket = sendStream('wait');
    await waitFor(() => upstream.received.length > received, 10_000, 'the upstream request');
    socket.destroy();
    await waitFor(() => abandoned > abandonedBefore, 10_000, 'the upstream to be aborted');
    await waitFor(
      async () =>
        sampleSum(await scrape(proxy.adminUrl), 'switchyard_upstream_attempts_total', { outcome: 'client_gone' }) > 0,
      5000,
      'the attempt to be counted',
    );
    const after = await replicaCounters();
    expect(after.failures - before.failures).toBe(0);
    expect(after.ejections - before.ejections).toBe(0);
  });

  it('a client that aborts mid-stream is not a replica failure either', async () => {
    const before = await replicaCounters();
    const abandonedBefore = abandoned;
    const socket = await openStream();
    socket.destroy();
    await waitFor(() => abandoned > abandonedBefore, 10_000, 'the upstream to be aborted');
    const after = await replicaCounters();
    expect(after.failures - before.failures).toBe(0);
    expect(after.ejections - before.ejections).toBe(0);
  });
});
