import { describe, expect, it } from 'vitest';
import { recordServerLoad } from '../../endpoints/load.js';
import type { PoolMember } from '../../endpoints/member.js';
import type { EndpointState } from '../../endpoints/state.js';
import { llmAwarePool, scrapedMembers } from '../testing/llm-aware-pool.js';
import { AffinityRegistry } from './affinity-tables.js';
import { conversationEnd, conversationKey } from './rendezvous.js';
import { LlmAwareScheduler } from './strategy.js';

const NONE: ReadonlySet<EndpointState> = new Set();
const SYSTEMS = ['You are a terse SQL expert. ', 'You translate English to French. '].map((s) => s.repeat(12));

/** The canonical prompt of turn `turn` of user `user` (the surfaces' `<|role|>` form). */
function chat(user: number, turn: number): string {
  let p = `<|system|>${SYSTEMS[user % 2]}<|user|>user ${user} asks question 0`;
  for (let t = 1; t <= turn; t++) p += `<|assistant|>answer ${t - 1} to user ${user}<|user|>question ${t}`;
  return p;
}

/** `proxies` independent schedulers over the same replicas (as separate proxy processes see them). */
const fleet = (proxies: number, replicas: number) =>
  Array.from({ length: proxies }, () => {
    const members = scrapedMembers(replicas);
    return {
      members,
      s: new LlmAwareScheduler(llmAwarePool({ prefixBlockChars: 64 }), members, new AffinityRegistry()),
    };
  });

describe('cross-proxy affinity (rendezvous)', () => {
  it('keys a chat by its system prompt and first question, a bare prompt by its first block', () => {
    expect(conversationKey(chat(3, 0), undefined, 64, 1e6)).toBe(conversationKey(chat(3, 5), undefined, 64, 1e6));
    expect(conversationKey(chat(3, 2), undefined, 64, 1e6)).not.toBe(conversationKey(chat(5, 2), undefined, 64, 1e6));
    expect(conversationEnd('<|user|>hi<|assistant|>ho', 64, 1e6)).toBe('<|user|>hi'.length);
    expect(conversationEnd('x'.repeat(500), 64, 1e6)).toBe(64);
    expect(conversationKey(undefined, 'alice', 64, 1e6)).toBe(conversationKey('anything', 'alice', 64, 1e6));
    expect(conversationKey(undefined, undefined, 64, 1e6)).toBeUndefined();
  });

  it('sends every turn of a conversation to the same replica whichever of 16 proxies takes it', () => {
    const proxies = fleet(16, 12);
    const byUser = new Map<number, Set<string>>();
    for (let turn = 0; turn < 6; turn++)
      for (let user = 0; user < 48; user++) {
        // each turn arrives at another proxy (a Service spreads connections)
        const { s } = proxies[(user * 7 + turn * 3) % 16] as (typeof proxies)[number];
        const m = s.pick({ now: Date.now(), exclude: NONE, prompt: chat(user, turn) }) as PoolMember;
        const seen = byUser.get(user) ?? new Set<string>();
        seen.add(m.endpoint.id);
        byUser.set(user, seen);
      }
    expect([...byUser.values()].every((ids) => ids.size === 1)).toBe(true);
    // the conversations spread over the replicas rather than following their 2 system prompts
    const used = new Set([...byUser.values()].flatMap((ids) => [...ids]));
    expect(used.size).toBeGreaterThanOrEqual(9);
  });

  it('moves only the conversations of a replica that leaves', () => {
    const [full] = fleet(1, 8);
    const before = new Map<number, string>();
    for (let user = 0; user < 200; user++)
      before.set(user, full?.s.pick({ now: Date.now(), exclude: NONE, prompt: chat(user, 1) })?.endpoint.id as string);
    const gone = full?.members[3] as PoolMember;
    const s = new LlmAwareScheduler(
      llmAwarePool({ prefixBlockChars: 64 }),
      scrapedMembers(8).filter((m) => m.endpoint.id !== gone.endpoint.id),
      new AffinityRegistry(),
    );
    let moved = 0;
    for (let user = 0; user < 200; user++) {
      const now = s.pick({ now: Date.now(), exclude: NONE, prompt: chat(user, 1) })?.endpoint.id;
      if (now !== before.get(user)) moved++;
      if (before.get(user) !== gone.endpoint.id) expect(now).toBe(before.get(user));
    }
    expect(moved).toBe([...before.values()].filter((id) => id === gone.endpoint.id).length);
  });

  it('spills a conversation to the next-ranked replica, the same on every proxy, when its own is loaded', () => {
    const proxies = fleet(3, 6);
    const prompt = chat(1, 2);
    const home = proxies[0]?.s.pick({ now: Date.now(), exclude: NONE, prompt })?.endpoint.id as string;
    // the replicas report the home replica busy (running + waiting over the load bound) to every proxy
    for (const { members } of proxies)
      for (const m of members)
        recordServerLoad(m.endpoint, 'metrics', { running: m.endpoint.id === home ? 12 : 1, waiting: 0 }, Date.now());
    const picks = proxies.map(({ s }) => s.pick({ now: Date.now(), exclude: NONE, prompt })?.endpoint.id);
    expect(picks[0]).not.toBe(home);
    expect(new Set(picks).size).toBe(1);
  });
});
