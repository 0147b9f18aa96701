/**
 * Workload of the llm-aware benchmark: users in groups sharing a long system prompt, each holding a multi-turn
 * conversation (the history grows by every question and answer), arriving open-loop (Poisson) so that a strategy
 * that cannot keep up builds a queue instead of slowing the arrivals. Deterministic for a seed.
 */
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';

export interface WorkloadShape {
  groups: number;
  systemTokens: number;
  questionTokens: number;
  answerTokens: number;
  turnsPerConversation: number;
  /** Users idle at the start; more join when every user is waiting for an answer. */
  users: number;
}

/** What one request measured (times in ms since the run started). */
export interface TurnResult {
  sentAt: number;
  ttftMs: number | undefined;
  doneAt: number | undefined;
  outputTokens: number;
  failed: boolean;
  /** Why it failed (status or error). */
  error?: string;
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'da', 'fu'];

/** `n` words (one simulator token each) drawn from `rand`. */
function words(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 2 + Math.floor(rand() * 2);
    let w = '';
    for (let j = 0; j < len; j++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    out.push(w);
  }
  return out.join(' ');
}

interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One user: a group's system prompt and the conversation so far. */
class User {
  messages: Message[] = [];
  turns = 0;
  constructor(
    readonly id: number,
    private readonly system: string,
  ) {
    this.messages = [{ role: 'system', content: system }];
  }
  restart(): void {
    this.messages = [{ role: 'system', content: this.system }];
    this.turns = 0;
  }
}

/**
 * Runs the workload against an OpenAI-compatible `baseUrl` for `durationMs` at `rate` requests/s. With several
 * `baseUrl`s (proxies behind one Service) each request goes to one of them at random, drawn apart from the workload
 * so that the same seed sends the same requests whatever the number of proxies.
 */
export async function runWorkload(opts: {
  baseUrl: string | string[];
  model: string;
  shape: WorkloadShape;
  rate: number;
  durationMs: number;
  /** Outstanding requests are abandoned this long after the end; their TTFT counts as the time waited so far. */
  drainMs: number;
  seed: number;
}): Promise<TurnResult[]> {
  const { shape } = opts;
  const rand = prng(opts.seed);
  const bases = typeof opts.baseUrl === 'string' ? [opts.baseUrl] : opts.baseUrl;
  const spread = prng(opts.seed ^ 0x5eed);
  const systems = Array.from({ length: shape.groups }, () => words(rand, shape.systemTokens));
  let nextUser = 0;
  const newUser = () => new User(nextUser++, systems[Math.floor(rand() * shape.groups)] as string);
  const idle: User[] = Array.from({ length: shape.users }, newUser);
  const agent = new Agent({ connections: 512, keepAliveTimeout: 30_000 });
  const results: TurnResult[] = [];
  const pending = new Set<Promise<void>>();
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const t0 = performance.now();

  const turn = async (user: User) => {
    user.messages.push({ role: 'user', content: words(rand, shape.questionTokens) });
    const r: TurnResult = {
      sentAt: performance.now() - t0,
      ttftMs: undefined,
      doneAt: undefined,
      outputTokens: 0,
      failed: false,
    };
    results.push(r);
    let answer = '';
    try {
      const base = bases[Math.floor(spread() * bases.length)] as string;
      const res = await request(`${base}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        signal: controller.signal,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: opts.model,
          messages: user.messages,
          max_tokens: shape.answerTokens,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      let buf = '';
      for await (const chunk of res.body) {
        buf += chunk.toString();
        let at = buf.indexOf('\n\n');
        while (at >= 0) {
          const event = buf.slice(0, at);
          buf = buf.slice(at + 2);
          at = buf.indexOf('\n\n');
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const data = JSON.parse(event.slice(6)) as {
            choices?: Array<{ delta?: { content?: string } }>;
            usage?: { completion_tokens?: number };
          };
          const text = data.choices?.[0]?.delta?.content;
          if (text) {
            r.ttftMs ??= performance.now() - t0 - r.sentAt;
            answer += text;
          }
          if (data.usage?.completion_tokens !== undefined) r.outputTokens = data.usage.completion_tokens;
        }
      }
      r.doneAt = performance.now() - t0;
      user.messages.push({ role: 'assistant', content: answer });
      if (++user.turns >= shape.turnsPerConversation) user.restart();
    } catch (err) {
      // Abandoned at the end of the drain: not a failure, its TTFT is censored below.
      r.failed = !controller.signal.aborted;
      if (r.failed) r.error = err instanceof Error ? err.message : String(err);
      user.restart();
    }
    idle.push(user);
  };

  // Open loop: Poisson arrivals at `rate`; each is the next turn of a random idle user (a new user if none is).
  let at = 0;
  while (at < opts.durationMs) {
    at += (-Math.log(1 - rand()) * 1000) / opts.rate;
    const wait = at - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = Math.floor(rand() * idle.length);
    const user = idle.length > 0 ? (idle.splice(i, 1)[0] as User) : newUser();
    const p = turn(user).finally(() => pending.delete(p));
    pending.add(p);
  }
  const drained = Promise.all(pending);
  const timer = setTimeout(() => controller.abort(), opts.drainMs);
  await drained;
  clearTimeout(timer);
  await agent.close();
  // Abandoned requests: their TTFT is at least the time they waited.
  const end = performance.now() - t0;
  for (const r of results) if (r.ttftMs === undefined && !r.failed) r.ttftMs = end - r.sentAt;
  return results;
}
