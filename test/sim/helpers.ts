/** Small HTTP helpers for the simulator's own tests. */

/** POSTs JSON. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

/** Reads a body to its end or to the first error; returns what arrived and the error, if any. */
export async function readUntilError(res: Response): Promise<{ text: string; error: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: null };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

/** A chat body for the OpenAI surface. */
export function chat(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'sim-model', messages: [{ role: 'user', content }], ...extra };
}

/** Value of one sample in a Prometheus text exposition (first line starting with `prefix`). */
export function metricValue(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`metric ${prefix} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
