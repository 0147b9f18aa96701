import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProxyConfig, parseManifests, translate } from '../../../shared/src/index.js';
import { FakeClock } from '../../../test/support/clock.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { waitFor } from '../../../test/support/wait.js';
import { Pusher, type PusherOptions } from './pusher.js';

/**
 * A fake proxy admin API: PUT /config and GET /config/version with a bearer token, an instance id and optional
 * failures. `hold()` keeps answers back until the function it returns is called (a slow proxy, without a delay
 * to guess); restart() forgets the snapshot and takes a new instance id, as a restarted process does. Each PUT
 * is recorded with the time of `clock` it arrived at.
 */
async function fakeProxy(
  clock: FakeClock,
  opts: { failPuts?: number; version?: string; reject?: boolean; plainOnly?: boolean } = {},
) {
  let version = opts.version;
  let fleet: unknown = null;
  const encodings: string[] = [];
  let failPuts = opts.failPuts ?? 0;
  let instance = 'first';
  let gate: Promise<void> = Promise.resolve();
  let putGate: Promise<void> = Promise.resolve();
  const calls: string[] = [];
  const putTimes: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const gzipped = req.headers['content-encoding'] === 'gzip';
      if (req.method === 'PUT') encodings.push(gzipped ? 'gzip' : 'identity');
      const raw = Buffer.concat(chunks);
      const body = (gzipped && !opts.plainOnly ? gunzipSync(raw) : raw).toString('utf8');
      calls.push(`${req.method} ${req.headers.authorization}`);
      if (req.method === 'PUT') putTimes.push(clock.now());
      await gate;
      if (req.method === 'PUT') await putGate;
      const reply = (status: number, payload: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      if (req.method === 'GET' && req.url === '/config/version')
        return version
          ? reply(200, { version, instance, fleet })
          : reply(503, { error: { message: 'none' }, instance });
      if (req.method !== 'PUT' || req.url !== '/config') return reply(404, { error: { message: 'not found' } });
      if (req.headers.authorization !== 'Bearer t0k') return reply(401, { error: { message: 'token' } });
      if (opts.reject) return reply(422, { error: { message: 'pools[0].model: Required' } });
      if (failPuts-- > 0) return reply(500, { error: { message: 'boom' } });
      let pushed: { version: string; fleet?: unknown };
      try {
        pushed = JSON.parse(body) as { version: string; fleet?: unknown };
      } catch {
        return reply(400, { error: { message: 'snapshot is not valid JSON' } });
      }
      version = pushed.version;
      fleet = pushed.fleet ?? null;
      reply(200, { version, instance, fleet });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    putTimes,
    puts: () => calls.filter((c) => c.startsWith('PUT')).length,
    version: () => version,
    fleet: () => fleet,
    encodings,
    hold(): () => void {
      let release = () => {};
      gate = new Promise((r) => {
        release = r;
      });
      return release;
    },
    /** Like hold(), for PUT answers only. */
    holdPuts(): () => void {
      let release = () => {};
      putGate = new Promise((r) => {
        release = r;
      });
      return release;
    },
    restart(next?: string) {
      version = next;
      instance = `restarted-${calls.length}`;
    },
    failNextPuts(n: number) {
      failPuts = n;
    },
  };
}

/** A valid (empty) snapshot whose version is `version`: the pusher sends it as it is. */
const EMPTY = translate({ backends: [], pools: [], policies: [], secrets: [] }).config;
const snapshot = (version: string): ProxyConfig => ({ ...EMPTY, version });

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});

function pusher(clock: FakeClock, opts: Partial<PusherOptions> = {}) {
  const p = new Pusher({
    token: () => 't0k',
    resyncIntervalMs: 0,
    backoff: { baseMs: 20, maxMs: 100 },
    clock,
    ...opts,
  });
  cleanup.push(() => p.stop());
  return p;
}

/** Debug logs of the pusher as parsed lines. */
function capturedLog() {
  const lines: { msg: string; proxy?: string; version?: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** Waits until no proxy loop runs and a backoff or resync timer waits, then advances the clock to it. */
async function toNextTimer(p: Pusher, clock: FakeClock): Promise<number> {
  await waitFor(() => p.sync().proxies.every((s) => !s.running) && clock.nextIn() !== undefined, 5000, 'a timer');
  const ms = clock.nextIn() as number;
  await clock.advance(ms);
  return ms;
}

describe('Pusher', () => {
  it('pushes the snapshot to every proxy and records the acknowledged version', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock);
    const b = await fakeProxy(clock);
    const p = pusher(clock);
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    p.setSnapshot(snapshot('v1'));
    await waitFor(() => p.sync().inSync === 2);
    expect(a.version()).toBe('v1');
    expect(a.calls).toContain('PUT Bearer t0k');
    p.setSnapshot(snapshot('v2'));
    await waitFor(() => p.sync().inSync === 2);
    expect(b.version()).toBe('v2');
  });

  it('does not PUT to a proxy that already serves the version (operator restart)', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock, { version: 'v1' });
    const p = pusher(clock);
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await waitFor(() => p.sync().inSync === 1 && !p.sync().proxies[0]?.running);
    expect(p.probes).toBe(1);
    expect(p.puts).toBe(0);
    expect(a.puts()).toBe(0);
  });

  it('retries failed pushes with exponential backoff until acknowledged', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock, { failPuts: 2 });
    const p = pusher(clock);
    p.setTargets([{ name: 'a', url: a.url }]);
    p.setSnapshot(snapshot('v1'));
    const waited = [await toNextTimer(p, clock), await toNextTimer(p, clock)];
    await waitFor(() => p.sync().inSync === 1);
    expect(p.puts).toBe(3);
    // 20 ms, then 40 ms, each plus up to 20 % jitter; the PUTs went out exactly then
    expect(waited[0]).toBeGreaterThanOrEqual(20);
    expect(waited[0]).toBeLessThanOrEqual(24);
    expect(waited[1]).toBeGreaterThanOrEqual(40);
    expect(waited[1]).toBeLessThanOrEqual(48);
    const [t0 = 0, t1 = 0, t2 = 0] = a.putTimes;
    expect([t1 - t0, t2 - t1]).toEqual(waited);
  });

  it('records a rejection (NACK) and keeps the others going; a slow proxy does not hold up a fast one', async () => {
    const clock = new FakeClock();
    const bad = await fakeProxy(clock, { reject: true });
    const slow = await fakeProxy(clock);
    const fast = await fakeProxy(clock);
    const releaseSlow = slow.hold();
    const p = pusher(clock);
    p.setTargets([
      { name: 'bad', url: bad.url },
      { name: 'slow', url: slow.url },
      { name: 'fast', url: fast.url },
    ]);
    p.setSnapshot(snapshot('v1'));
    await waitFor(() => fast.version() === 'v1');
    await waitFor(() => p.sync().proxies.find((x) => x.target.name === 'bad')?.lastError !== undefined);
    expect(p.sync().proxies.find((x) => x.target.name === 'bad')?.lastError).toContain('422');
    // the slow proxy has not even answered what it serves yet
    expect(slow.calls).toHaveLength(1);
    expect(slow.version()).toBeUndefined();
    releaseSlow();
    await waitFor(() => slow.version() === 'v1');
  });

  it('delivers the snapshot to a proxy that appears later, and forgets removed ones', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock);
    const b = await fakeProxy(clock);
    const p = pusher(clock);
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await waitFor(() => p.sync().inSync === 1);
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    await waitFor(() => b.version() === 'v1');
    p.setTargets([{ name: 'b', url: b.url }]);
    expect(p.sync().total).toBe(1);
  });

  it('pushes again to a proxy restarted at the same address, though it was in sync, at the next resync', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock);
    const p = pusher(clock, { resyncIntervalMs: 100 });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'a', url: a.url }]);
    await waitFor(() => p.sync().inSync === 1 && !p.sync().proxies[0]?.running);
    const puts = p.puts;
    a.restart();
    await clock.advance(100);
    await waitFor(() => a.version() === 'v1');
    expect(p.puts).toBe(puts + 1);
    await waitFor(() => p.sync().inSync === 1);
    expect(p.sync().proxies[0]?.instance).toMatch(/^restarted-/);
    // in sync again: asked every period, not pushed
    for (let i = 1; i <= 2; i++) {
      const probes = p.probes;
      await waitFor(() => !p.sync().proxies[0]?.running);
      await clock.advance(100);
      await waitFor(() => p.probes === probes + 1 && !p.sync().proxies[0]?.running);
      expect(p.puts).toBe(puts + 1);
    }
  });

  it('counts what proxies serve: one serving another version is out of sync until pushed again', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock);
    const b = await fakeProxy(clock);
    const changes: string[] = [];
    const p = pusher(clock, { resyncIntervalMs: 100, observer: { syncChanged: (n, m) => changes.push(`${n}/${m}`) } });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    await waitFor(() => p.sync().inSync === 2);
    b.restart('v0'); // e.g. restored from an old config by hand
    b.failNextPuts(1000);
    await clock.advance(100);
    await waitFor(() => changes.at(-1) === '1/2');
    expect(p.sync().proxies.find((x) => x.target.name === 'b')?.acked).toBeUndefined();
    b.failNextPuts(0);
    await toNextTimer(p, clock);
    await waitFor(() => p.sync().inSync === 2);
    expect(b.version()).toBe('v1');
  });

  it('tries a proxy waiting out a long backoff again at the next resync', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock, { failPuts: 1 });
    const p = pusher(clock, { resyncIntervalMs: 100, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    p.setTargets([{ name: 'a', url: a.url }]);
    p.setSnapshot(snapshot('v1'));
    await waitFor(() => p.sync().proxies[0]?.lastError !== undefined && !p.sync().proxies[0]?.running);
    expect(clock.nextIn()).toBe(100); // the resync comes before the minute of backoff
    await clock.advance(100);
    await waitFor(() => p.sync().inSync === 1);
    expect(p.puts).toBe(2);
  });

  it('times out a hanging proxy', async () => {
    const clock = new FakeClock();
    const hang = http.createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    cleanup.push(
      () => hang.closeAllConnections(),
      () => hang.close(),
    );
    const p = pusher(clock, { timeoutMs: 100 });
    p.setSnapshot(snapshot('v1'));
    p.setTargets([{ name: 'h', url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}` }]);
    await waitFor(() => p.sync().proxies[0]?.lastError !== undefined);
    expect(p.sync().proxies[0]?.lastError).toMatch(/timed out/);
  });

  it('reports each PUT with the proxy pod it went to, and when a pod leaves the targets', async () => {
    const clock = new FakeClock();
    const a = await fakeProxy(clock);
    const b = await fakeProxy(clock, { failPuts: 1 });
    const moved = await fakeProxy(clock);
    const pushed: string[] = [];
    const removed: string[] = [];
    const { log, lines } = capturedLog();
    const p = pusher(clock, {
      log,
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
    await toNextTimer(p, clock); // pod-b's retry
    await waitFor(() => p.sync().inSync === 2);
    expect(pushed.sort()).toEqual(['pod-a ok', 'pod-b error', 'pod-b ok']);
    // pod-a moves to a new address: same pod name, so its series stay; pod-b leaves
    p.setTargets([{ name: 'pod-a', url: moved.url }]);
    expect(removed).toEqual(['pod-b']);
    await waitFor(() => p.sync().inSync === 1);
    // a PUT still in flight when its pod leaves is not reported (it would bring the pod's series back)
    pushed.length = 0;
    const release = moved.hold();
    const putsBefore = moved.puts();
    p.setSnapshot(snapshot('v2'));
    await waitFor(() => moved.puts() === putsBefore + 1, 5000, 'the PUT of v2 to arrive');
    p.setTargets([]);
    expect(removed).toEqual(['pod-b', 'pod-a']);
    release();
    await waitFor(
      () => lines.some((l) => l.msg === 'snapshot acknowledged' && l.version === 'v2'),
      5000,
      'the pusher to take in the answer',
    );
    expect(pushed).toEqual([]);
  });
});

/** A snapshot with a fleet-wide number (a replica cap), so each proxy gets its own view. */
const CAPPED = translate(
  parseManifests(
    poolManifests({ name: 'b', model: 'm', urls: ['http://10.0.0.1:8000/v1'], backendSpec: '  maxConcurrency: 7' }),
  ),
).config;

describe('Pusher and fleet views', () => {
  it('gives each proxy its place in the fleet, gzip-compressed, each acknowledging its own version', async () => {
    const clock = new FakeClock();
    const proxies = await Promise.all([0, 1, 2].map(() => fakeProxy(clock)));
    const p = pusher(clock);
    p.setTargets(proxies.map((f, i) => ({ name: `p${i}`, url: f.url })));
    p.setSnapshot(CAPPED);
    await waitFor(() => p.sync().inSync === 3);
    expect(proxies.map((f) => f.fleet())).toEqual([0, 1, 2].map((ordinal) => ({ proxies: 3, ordinal })));
    expect(new Set(proxies.map((f) => f.version())).size).toBe(3);
    expect(proxies.flatMap((f) => f.encodings)).toEqual(['gzip', 'gzip', 'gzip']);
    // what the status reconcilers count: every proxy serves the translation's content
    expect(p.sync().proxies.map((s) => s.content)).toEqual([CAPPED.version, CAPPED.version, CAPPED.version]);
  });

  it('scale-up: a new proxy gets its snapshot only after the others took their smaller share', async () => {
    const clock = new FakeClock();
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => fakeProxy(clock)));
    if (!a || !b || !c) throw new Error('fakes');
    const p = pusher(clock);
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
    ]);
    p.setSnapshot(CAPPED);
    await waitFor(() => p.sync().inSync === 2);
    const releaseB = b.hold();
    p.setTargets([
      { name: 'a', url: a.url },
      { name: 'b', url: b.url },
      { name: 'c', url: c.url },
    ]);
    await waitFor(() => JSON.stringify(a.fleet()).includes('previous'));
    expect(a.fleet()).toEqual({ proxies: 3, ordinal: 0, previous: [{ proxies: 2, ordinal: 0 }] });
    await waitFor(() => c.calls.length === 1); // asked what it serves; no PUT while b has not acknowledged
    expect(c.puts()).toBe(0);
    releaseB();
    await waitFor(() => p.sync().inSync === 3);
    expect([a, b, c].map((f) => f.fleet())).toEqual([0, 1, 2].map((ordinal) => ({ proxies: 3, ordinal })));
  });

  it('keeps at most maxConcurrentPushes PUTs in flight', async () => {
    const clock = new FakeClock();
    const proxies = await Promise.all([0, 1, 2, 3, 4].map(() => fakeProxy(clock)));
    const p = pusher(clock, { maxConcurrentPushes: 2 });
    p.setSnapshot(snapshot('v1'));
    const held = proxies.map((f) => f.holdPuts());
    p.setTargets(proxies.map((f, i) => ({ name: `p${i}`, url: f.url })));
    await waitFor(() => proxies.reduce((n, f) => n + f.puts(), 0) === 2);
    await waitFor(() => proxies.every((f) => f.calls.length >= 1)); // every probe answered meanwhile
    const inFlight = () => proxies.reduce((n, f) => n + f.puts(), 0) - proxies.filter((f) => f.version()).length;
    expect(inFlight()).toBe(2);
    for (const r of held) r();
    await waitFor(() => p.sync().inSync === 5);
    expect(proxies.reduce((n, f) => n + f.puts(), 0)).toBe(5);
  });

  it('sends plain JSON to a proxy that cannot read gzip', async () => {
    const clock = new FakeClock();
    const old = await fakeProxy(clock, { plainOnly: true });
    const p = pusher(clock);
    p.setTargets([{ name: 'old', url: old.url }]);
    p.setSnapshot(snapshot('v1'));
    await waitFor(() => p.sync().inSync === 1);
    expect(old.encodings).toEqual(['gzip', 'identity']);
    expect(p.sync().proxies[0]?.failures).toBe(0);
  });
});
