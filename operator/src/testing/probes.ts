/** Test probes (e2e only): requests through a proxy, a proxy's served snapshot, an operator's metrics. */

/** A proxy process as tests address it. */
export interface ProxyAddress {
  host: string;
  /** Traffic port. */
  traffic: number;
  /** Admin port. */
  admin: number;
}

/** One chat completion through a proxy: HTTP status (0 on network error) and the endpoint that served it. */
export async function chat(proxy: ProxyAddress, model: string): Promise<{ status: number; endpoint: string | null }> {
  try {
    const res = await fetch(`http://${proxy.host}:${proxy.traffic}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return { status: res.status, endpoint: res.headers.get('x-switchyard-endpoint') };
  } catch {
    return { status: 0, endpoint: null };
  }
}

/** Sends `n` requests one after the other; counts by endpoint id (or `HTTP <status>` for failures). */
export async function spread(proxy: ProxyAddress, model: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await chat(proxy, model);
    const key = r.status === 200 ? (r.endpoint ?? '?') : `HTTP ${r.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The part of a proxy's `GET /config` summary tests read. */
export interface ConfigSummary {
  version: string;
  backends: { id: string; endpoints: { id: string }[] }[];
}

/** `GET /config` of a proxy; undefined while it has no snapshot (or is unreachable). */
export async function proxyConfig(proxy: ProxyAddress): Promise<ConfigSummary | undefined> {
  try {
    const res = await fetch(`http://${proxy.host}:${proxy.admin}/config`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? ((await res.json()) as ConfigSummary) : undefined;
  } catch {
    return undefined;
  }
}

/** Sorted endpoint ids of backend `backendId` as each proxy serves them (empty when absent). */
export async function servedEndpoints(proxies: ProxyAddress[], backendId: string): Promise<string[][]> {
  const all = await Promise.all(proxies.map(proxyConfig));
  return all.map((c) => (c?.backends.find((b) => b.id === backendId)?.endpoints ?? []).map((e) => e.id).sort());
}

/** Sum of the series of metric `name` whose labels contain `labels`, from `http://127.0.0.1:<port>/metrics`. */
export async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [series, value] = line.split(' ');
    if (series && (series === name || series.startsWith(`${name}{`)) && series.includes(labels)) sum += Number(value);
  }
  return sum;
}
