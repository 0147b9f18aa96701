import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { waitFor } from '../../../test/support/wait.js';
import { freshServerLoad, serverQueue } from '../endpoints/load.js';
import { EndpointState } from '../endpoints/state.js';
import { fakeBackend } from '../scheduling/testing/members.js';
import { MetricsScraper } from './scraper.js';

/** A `/metrics` server whose answer the test switches: 404, a page, or no answer at all. */
interface FakeServer {
  mode: 'missing' | 'ok' | 'hang' | 'held';
  /** In mode 'held': answers the request waiting for an answer with a page. */
  answer?: (page: string) => void;
  /** The clock's time at each request's arrival. */
  arrivals: number[];
  /** Requests not yet answered or closed, and the most there ever were at once. */
  open: number;
  maxOpen: number;
  url: string;
}

let servers: Server[] = [];
let scrapers: MetricsScraper[] = [];
afterEach(async () => {
  await Promise.all(scrapers.map((s) => s.stop()));
  scrapers = [];
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function fakeServer(clock: FakeClock, mode: FakeServer['mode']): Promise<FakeServer> {
  const f: FakeServer = { mode, arrivals: [], open: 0, maxOpen: 0, url: '' };
  const server = createServer((_req, res) => {
    f.arrivals.push(clock.now());
    f.open++;
    f.maxOpen = Math.max(f.maxOpen, f.open);
    res.on('close', () => f.open--);
    if (f.mode === 'hang') return;
    if (f.mode === 'held') {
      f.answer = (page) => res.writeHead(200, { 'content-type': 'text/plain' }).end(page);
      return;
    }
    if (f.mode === 'missing') res.writeHead(404).end('Not Found');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('vllm:num_requests_waiting{engine="0"} 3.0\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  servers.push(server);
  return f;
}

/** Starts scraping one endpoint at `url` on `clock`, its first scrape at the start of its interval. */
function scrape(clock: FakeClock, url: string, timing: { intervalMs: number; staleAfterMs: number }, retryMs = 60_000) {
  const backend = { ...fakeBackend('ns/vllm'), metrics: { enabled: true, path: '/metrics', ...timing } };
  const ep = { id: 'vllm/0', url, weight: 1 };
  const endpoint = new EndpointState(EndpointState.keyOf(backend, ep), backend, ep);
  const scraper = new MetricsScraper(pino({ level: 'silent' }), {
    clock,
    random: () => 0,
    unsupportedRetryMs: retryMs,
  });
  scrapers.push(scraper);
  scraper.sync(new Set([endpoint]));
  return endpoint;
}

describe('MetricsScraper', () => {
  it('asks a /metrics that answered 404 again only after the back-off, and picks it up once it is served', async () => {
    const clock = new FakeClock(0);
    const f = await fakeServer(clock, 'missing');
    const e = scrape(clock, f.url, { intervalMs: 10, staleAfterMs: 1000 }, 300);
    await clock.advance(0);
    await waitFor(() => f.arrivals.length === 1, 5000, 'the first scrape');
    // The 404 has been read once the back-off timer waits: not asked again on any 10 ms interval before it.
    await waitFor(() => clock.nextIn() === 300, 5000, 'the back-off');
    await clock.advance(300);
    await waitFor(() => f.arrivals.length === 2, 5000, 'the scrape after the back-off');
    expect(f.arrivals).toEqual([0, 300]);
    expect(freshServerLoad(e, clock.now())).toBeUndefined();
    // The server now serves its metrics (restarted with them enabled): read at the next try, then every interval.
    f.mode = 'ok';
    await waitFor(() => clock.nextIn() === 300, 5000, 'the second back-off');
    await clock.advance(300);
    await waitFor(() => freshServerLoad(e, clock.now())?.waiting === 3, 5000, 'the reading');
    for (const n of [4, 5, 6]) {
      await waitFor(() => clock.nextIn() === 10, 5000, 'the next interval');
      await clock.advance(10);
      await waitFor(() => f.arrivals.length === n, 5000, `scrape ${n}`);
    }
    expect(f.arrivals).toEqual([0, 300, 600, 610, 620, 630]);
  });

  it('keeps one scrape in flight and gives it up after staleAfter when /metrics hangs', async () => {
    const clock = new FakeClock(0);
    const f = await fakeServer(clock, 'hang');
    const e = scrape(clock, f.url, { intervalMs: 10, staleAfterMs: 100 });
    await clock.advance(0);
    await waitFor(() => f.arrivals.length === 1 && f.open === 1, 5000, 'the first scrape');
    // Its interval passed long ago: the next scrape waits for this one to be given up, at staleAfter.
    await clock.advance(99);
    await waitFor(() => clock.nextIn() === 1, 5000, 'the give-up timer');
    // Given up at staleAfter; the next scrape, overdue, starts at once, after the hung one was closed.
    await clock.advance(1);
    await waitFor(() => f.arrivals.length === 2, 5000, 'the second scrape');
    expect(f.arrivals).toEqual([0, 100]);
    expect(f.maxOpen).toBe(1);
    expect(freshServerLoad(e, clock.now())).toBeUndefined();
  });

  it('does not count a request of its own that ended while the scrape was on its way (the server may have read it before)', async () => {
    const clock = new FakeClock(0);
    const f = await fakeServer(clock, 'held');
    const e = scrape(clock, f.url, { intervalMs: 1000, staleAfterMs: 5000 });
    e.acquire();
    await clock.advance(0);
    await waitFor(() => f.answer !== undefined, 5000, 'the scrape');
    // The server took its reading with the request running; the request ends before the answer reaches the proxy.
    e.release();
    f.answer?.('vllm:num_requests_running{engine="0"} 1.0\nvllm:num_requests_waiting{engine="0"} 0.0\n');
    await waitFor(() => freshServerLoad(e, clock.now())?.running === 1, 5000, 'the reading');
    expect(serverQueue(e, freshServerLoad(e, clock.now()))).toBe(0);
  });
});
