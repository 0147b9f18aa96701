import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freshServerLoad } from '../endpoints/load.js';
import { EndpointState } from '../endpoints/state.js';
import { fakeBackend } from '../scheduling/testing/members.js';
import { MetricsScraper } from './scraper.js';

/** A `/metrics` server whose answer the test switches: 404, a page, or no answer at all. */
interface FakeServer {
  mode: 'missing' | 'ok' | 'hang';
  /** Arrival time (ms since epoch) of each request. */
  arrivals: number[];
  /** Requests not yet answered or closed, and the most there ever were at once. */
  open: number;
  maxOpen: number;
  url: string;
  server: Server;
}

let servers: FakeServer[] = [];
let scrapers: MetricsScraper[] = [];
afterEach(async () => {
  await Promise.all(scrapers.map((s) => s.stop()));
  scrapers = [];
  for (const f of servers) f.server.closeAllConnections();
  await Promise.all(servers.map((f) => new Promise((r) => f.server.close(r))));
  servers = [];
});

async function fakeServer(mode: FakeServer['mode']): Promise<FakeServer> {
  const f = { mode, arrivals: [], open: 0, maxOpen: 0, url: '' } as unknown as FakeServer;
  f.server = createServer((_req, res) => {
    f.arrivals.push(Date.now());
    f.open++;
    f.maxOpen = Math.max(f.maxOpen, f.open);
    res.on('close', () => f.open--);
    if (f.mode === 'hang') return;
    if (f.mode === 'missing') res.writeHead(404).end('Not Found');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('vllm:num_requests_waiting{engine="0"} 3.0\n');
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/v1`;
  servers.push(f);
  return f;
}

/** Starts scraping one endpoint of an llm-aware pool at `url`. */
function scrape(url: string, timing: { intervalMs: number; staleAfterMs: number }, unsupportedRetryMs?: number) {
  const backend = { ...fakeBackend('ns/vllm'), metrics: { enabled: true, path: '/metrics', ...timing } };
  const ep = { id: 'vllm/0', url, weight: 1 };
  const endpoint = new EndpointState(EndpointState.keyOf(backend, ep), backend, ep);
  const scraper = new MetricsScraper(
    pino({ level: 'silent' }),
    unsupportedRetryMs === undefined ? {} : { unsupportedRetryMs },
  );
  scrapers.push(scraper);
  scraper.sync(new Set([endpoint]));
  return endpoint;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

describe('MetricsScraper', () => {
  it('asks a /metrics that answered 404 again only after the back-off, and picks it up once it is served', async () => {
    const f = await fakeServer('missing');
    const e = scrape(f.url, { intervalMs: 10, staleAfterMs: 1000 }, 300);
    // Asked again after the back-off, not every 10 ms interval; still missing: another back-off.
    await waitFor(() => f.arrivals.length === 2);
    expect((f.arrivals[1] as number) - (f.arrivals[0] as number)).toBeGreaterThanOrEqual(290);
    expect(freshServerLoad(e, Date.now())).toBeUndefined();
    // The server now serves its metrics (restarted with them enabled): read at the next try, then every interval.
    f.mode = 'ok';
    await waitFor(() => freshServerLoad(e, Date.now())?.waiting === 3);
    expect(f.arrivals.length).toBe(3);
    expect((f.arrivals[2] as number) - (f.arrivals[1] as number)).toBeGreaterThanOrEqual(290);
    await waitFor(() => f.arrivals.length >= 8, 2000);
  });

  it('keeps one scrape in flight and gives it up after staleAfter when /metrics hangs', async () => {
    const f = await fakeServer('hang');
    const e = scrape(f.url, { intervalMs: 10, staleAfterMs: 100 });
    await waitFor(() => f.arrivals.length >= 3);
    // Each hung scrape was aborted (after staleAfter) before the next one started.
    expect(f.maxOpen).toBe(1);
    expect((f.arrivals[2] as number) - (f.arrivals[1] as number)).toBeGreaterThanOrEqual(80);
    expect(freshServerLoad(e, Date.now())).toBeUndefined();
  });
});
