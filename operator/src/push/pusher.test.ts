import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyConfig } from '../../../shared/src/index.js';
import { Pusher } from './pusher.js';

/**
 * A fake proxy admin API: PUT /config and GET /config/version with a bearer token, an instance id, optional
 * failures and delay; restart() forgets the snapshot and takes a new instance id, as a restarted process does.
 */
async function fakeProxy(opts: { failPuts?: number; delayMs?: number; version?: string; reject?: boolean } = {}) {
  let version = opts.version;
  let failPuts = opts.failPuts ?? 0;
  let instance = 'first';
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      calls.push(`${req.method} ${req.headers.authorization}`);
      const reply = (status: number, payload: unknown) =>
        setTimeout(
          () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload)),
          opts.delayMs ?? 0,
        );
      if (req.method === 'GET' && req.url === '/config/version')
        return version ? reply(200, { version, instance }) : reply(503, { error: { message: 'none' }, instance });
      if (req.method !== 'PUT' || req.url !== '/config') return reply(404, { error: { message: 'not found' } });
      if (req.headers.authorization !== 'Bearer t0k') return reply(401, { error: { message: 'token' } });
      if (opts.reject) return reply(422, { error: { message: 'pools[0].model: Required' } });
      if (failPuts-- > 0) return reply(500, { error: { message: 'boom' } });
      version = (JSON.parse(body) as { version: string }).version;
      reply(200, { version, instance });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    server,
    version: () => version,
    restart(next?: string) {
      version = next;
      instance = `restarted-${calls.length}`;
    },
    failNextPuts(n: number) {
      failPuts = n;
    },
  };
}

const snapshot = (version: string) => ({ version, schemaVersion: 1 }) as unknown as ProxyConfig;

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function pusher(opts: Partial<ConstructorParameters<typeof Pusher>[0]> = {}) {
  const p = new Pusher({ token: () => 't0k', resyncIntervalMs: 0, backoff: { baseMs: 20, maxMs: 100 }, ...opts });
  cleanup.push(() => p.stop());
  return p;
}

describe('Pusher', () => {
  it('pushes the snapshot to every proxy and records the acknowledged version', async () => {
    const a = await fakeProxy();
    const b = await fakeProxy();
    cleanup.push(
      () => a.server.close(),
      () => b.server.close(),
    );
    const p = pusher();
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    p.setSnapshot(snapshot('v1'));
    await until(() => p.sync().inSync === 2);
    expect(a.version()).toBe('v1');
    expect(a.calls).toContain('PUT Bearer t0k');
    p.setSnapshot(snapshot('v2'));
    await until(() => p.sync().inSync === 2);
    expect(b.version()).toBe('v2');
  });

  it('does not PUT to a proxy that already serves the version (operator restart)', async () => {
    const a = await fakeProxy({ version: 'v1' });
    cleanup.push(() => a.server.close());
    const p = pusher();
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await until(() => p.sync().inSync === 1);
    expect(p.puts).toBe(0);
    expect(a.calls.filter((c) => c.startsWith('PUT'))).toHaveLength(0);
  });

  it('retries failed pushes with backoff until acknowledged', async () => {
    const a = await fakeProxy({ failPuts: 2 });
    cleanup.push(() => a.server.close());
    const p = pusher();
    p.setTargets([{ name: 'a', url: a.url }]);
    p.setSnapshot(snapshot('v1'));
    await until(() => p.sync().inSync === 1);
    expect(p.puts).toBe(3);
  });

  it('records a rejection (NACK) and keeps the others going; a slow proxy does not block a fast one', async () => {
    const bad = await fakeProxy({ reject: true });
    const slow = await fakeProxy({ delayMs: 400 });
    const fast = await fakeProxy();
    cleanup.push(
      () => bad.server.close(),
      () => slow.server.close(),
      () => fast.server.close(),
    );
    const p = pusher();
    p.setTargets([
      { name: 'bad', url: bad.url },
      { name: 'slow', url: slow.url },
      { name: 'fast', url: fast.url },
    ]);
    const t0 = Date.now();
    p.setSnapshot(snapshot('v1'));
    await until(() => fast.version() === 'v1');
    expect(Date.now() - t0).toBeLessThan(400);
    await until(() => p.sync().proxies.find((x) => x.target.name === 'bad')?.lastError !== undefined);
    expect(p.sync().proxies.find((x) => x.target.name === 'bad')?.lastError).toContain('422');
    await until(() => slow.version() === 'v1');
  });

  it('delivers the snapshot to a proxy that appears later, and forgets removed ones', async () => {
    const a = await fakeProxy();
    const b = await fakeProxy();
    cleanup.push(
      () => a.server.close(),
      () => b.server.close(),
    );
    const p = pusher();
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await until(() => p.sync().inSync === 1);
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    await until(() => b.version() === 'v1');
    p.setTargets([{ name: 'b', url: b.url }]);
    expect(p.sync().total).toBe(1);
  });

  it('pushes again to a proxy restarted at the same address, though it was in sync, within one resync', async () => {
    const a = await fakeProxy();
    cleanup.push(() => a.server.close());
    const p = pusher({ resyncIntervalMs: 100 });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await until(() => p.sync().inSync === 1);
    const puts = p.puts;
    a.restart();
    await until(() => a.version() === 'v1');
    expect(p.puts).toBe(puts + 1);
    expect(p.sync().proxies[0]?.instance).toMatch(/^restarted-/);
    // in sync again, re-probed every period but not pushed
    const probes = p.probes;
    await until(() => p.probes >= probes + 2);
    expect(p.puts).toBe(puts + 1);
  });

  it('counts what proxies serve: one serving another version is out of sync until pushed again', async () => {
    const a = await fakeProxy();
    const b = await fakeProxy();
    cleanup.push(
      () => a.server.close(),
      () => b.server.close(),
    );
    const changes: string[] = [];
    const p = pusher({ resyncIntervalMs: 100, observer: { syncChanged: (n, m) => changes.push(`${n}/${m}`) } });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    await until(() => p.sync().inSync === 2);
    b.restart('v0'); // e.g. restored from an old config by hand
    b.failNextPuts(1000);
    await until(() => changes.at(-1) === '1/2');
    expect(p.sync().proxies.find((x) => x.target.name === 'b')?.acked).toBeUndefined();
    b.failNextPuts(0);
    await until(() => p.sync().inSync === 2);
    expect(b.version()).toBe('v1');
  });

  it('tries a proxy waiting out a long backoff again at the next resync', async () => {
    const a = await fakeProxy({ failPuts: 1 });
    cleanup.push(() => a.server.close());
    const p = pusher({ resyncIntervalMs: 100, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    p.setTargets([{ name: 'a', url: a.url }]);
    p.setSnapshot(snapshot('v1'));
    await until(() => p.sync().inSync === 1);
    expect(p.puts).toBe(2);
  });

  it('times out a hanging proxy', async () => {
    const hang = http.createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    cleanup.push(
      () => hang.closeAllConnections(),
      () => hang.close(),
    );
    const p = pusher({ timeoutMs: 100 });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'h', url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}` }]);
    await until(() => p.sync().proxies[0]?.lastError !== undefined);
    expect(p.sync().proxies[0]?.lastError).toMatch(/timed out/);
  });

  it('reports each PUT with the proxy pod it went to, and when a pod leaves the targets', async () => {
    const a = await fakeProxy();
    const b = await fakeProxy({ failPuts: 1 });
    const slow = await fakeProxy({ delayMs: 300 });
    cleanup.push(
      () => a.server.close(),
      () => b.server.close(),
      () => slow.server.close(),
    );
    const pushed: string[] = [];
    const removed: string[] = [];
    const p = pusher({
      observer: {
        pushed: (result, _seconds, proxy) => pushed.push(`${proxy} ${result}`),
        proxyRemoved: (proxy) => removed.push(proxy),
      },
    });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([
      { name: 'pod-a', url: a.url },
      { name: 'pod-b', url: b.url },
    ]);
    await until(() => p.sync().inSync === 2);
    expect(pushed.sort()).toEqual(['pod-a ok', 'pod-b error', 'pod-b ok']);
    // pod-a moves to a new address: same pod name, so its series stay; pod-b leaves
    p.setTargets([{ name: 'pod-a', url: slow.url }]);
    expect(removed).toEqual(['pod-b']);
    await until(() => p.sync().inSync === 1);
    // a PUT still in flight when its pod leaves is not reported (it would bring the pod's series back)
    pushed.length = 0;
    p.setSnapshot(snapshot('v2'));
    await new Promise((r) => setTimeout(r, 50));
    p.setTargets([]);
    expect(removed).toEqual(['pod-b', 'pod-a']);
    await until(() => slow.version() === 'v2');
    await new Promise((r) => setTimeout(r, 400)); // its answer (delayed 300 ms) has arrived
    expect(pushed).toEqual([]);
  });
});
