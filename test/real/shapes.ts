/**
 * The shape of an HTTP answer, for comparing the simulator with a real server: status, JSON skeleton (keys and value
 * types, not values) or, for a stream, the sequence of event kinds and the skeleton of each kind.
 */

/** Keys and value types of a JSON value: `{a:number,b:[string]}`; arrays by their first element, null as null. */
export function skeleton(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${skeleton(v[0])}]`;
  if (typeof v === 'object')
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${k}:${skeleton((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return typeof v;
}

export interface AnswerShape {
  status: number;
  contentType: string;
  body: string;
}

/** Status, media type and JSON skeleton (or `text` for a body that is not JSON) of a plain answer. */
export async function answerShape(res: Response): Promise<AnswerShape> {
  const text = await res.text();
  let body: string;
  try {
    body = skeleton(JSON.parse(text));
  } catch {
    body = text.length === 0 ? 'empty' : 'text';
  }
  return { status: res.status, contentType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '', body };
}

/** What an OpenAI stream event is: its role, content, finish, usage-only chunk, `[DONE]` or an error. */
export function eventKind(data: string): string {
  if (data === '[DONE]') return 'done';
  const j = JSON.parse(data) as {
    error?: unknown;
    choices?: Array<{
      delta?: { role?: string; content?: string | null };
      text?: string;
      finish_reason?: string | null;
    }>;
    usage?: unknown;
  };
  if (j.error) return 'error';
  const c = j.choices?.[0];
  if (!c) return j.usage ? 'usage' : 'empty';
  if (c.finish_reason) return 'finish';
  if (c.delta?.role) return 'role';
  return 'content';
}

export interface StreamShape {
  status: number;
  contentType: string;
  /** Event kinds in order, runs of `content` collapsed into one. */
  kinds: string[];
  /** Skeleton of each kind (the first event of that kind). */
  skeletons: Record<string, string>;
}

/** The shape of an SSE answer. */
export async function streamShape(res: Response): Promise<StreamShape> {
  const text = await res.text();
  const kinds: string[] = [];
  const skeletons: Record<string, string> = {};
  for (const ev of text.split('\n\n')) {
    const data = ev
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    if (!data) continue;
    const kind = eventKind(data);
    if (kinds.at(-1) !== kind || kind !== 'content') kinds.push(kind);
    if (kind !== 'done') skeletons[kind] ??= skeleton(JSON.parse(data));
  }
  return {
    status: res.status,
    contentType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '',
    kinds,
    skeletons,
  };
}

/** Names of the metric families of a Prometheus text page. */
export function metricNames(text: string): string[] {
  return [
    ...new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2] as string),
    ),
  ].sort();
}
