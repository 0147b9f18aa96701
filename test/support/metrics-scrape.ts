/** Test helpers around a proxy's /metrics: strict scrapes and the change of counters across one request. */
import { type PromFamily, parsePrometheusText, sampleSum } from './prom-text.js';
import { waitFor } from './wait.js';

export type Families = Map<string, PromFamily>;

/** Scrapes `adminUrl`/metrics in the Prometheus text format and parses it strictly. */
export async function scrape(adminUrl: string): Promise<Families> {
  const res = await fetch(`${adminUrl}/metrics`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/plain; version=0.0.4')) throw new Error(`unexpected content type ${type}`);
  return parsePrometheusText(await res.text());
}

/** Samples before and after a step. */
export class Delta {
  constructor(
    readonly before: Families,
    readonly after: Families,
  ) {}

  /** Change of the sum of samples `name` with `labels`. */
  of(name: string, labels: Record<string, string> = {}): number {
    return sampleSum(this.after, name, labels) - sampleSum(this.before, name, labels);
  }
}

/** Runs `send` (one client request), waits until /metrics counted it, and returns the scrapes around it. */
export async function measureRequest(
  adminUrl: string,
  send: () => Promise<Response>,
): Promise<{ res: Response; body: string; delta: Delta }> {
  const before = await scrape(adminUrl);
  const res = await send();
  const body = await res.text();
  const counted = sampleSum(before, 'switchyard_requests_total') + 1;
  let after = before;
  await waitFor(
    async () => {
      after = await scrape(adminUrl);
      return sampleSum(after, 'switchyard_requests_total') === counted;
    },
    10_000,
    'the request to be counted in /metrics',
  );
  return { res, body, delta: new Delta(before, after) };
}
