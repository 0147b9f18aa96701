import { describe, expect, it } from 'vitest';
import { recordServerLoad } from '../../endpoints/load.js';
import type { PoolMember } from '../../endpoints/member.js';
import type { EndpointState } from '../../endpoints/state.js';
import { llmAwarePool, scrapedMembers } from '../testing/llm-aware-pool.js';
import type { PickContext } from '../types.js';
import { AffinityRegistry } from './affinity-tables.js';
import { LlmAwareScheduler } from './strategy.js';

const NONE: ReadonlySet<EndpointState> = new Set();
const ctx = (extra: Partial<PickContext> = {}): PickContext => ({ now: Date.now(), exclude: NONE, ...extra });
const SYSTEM = 'You are a helpful assistant for the ACME corporation. '.repeat(20);
const idOf = (m: PoolMember | undefined) => m?.endpoint.id;

/** Picks `n` times (each request released before the next, so no load builds up); returns ids picked. */
function pickMany(s: LlmAwareScheduler, n: number, c: (i: number) => Partial<PickContext> = () => ({})): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const m = s.pick(ctx(c(i)));
    if (m) out.push(m.endpoint.id);
  }
  return out;
}

describe('LlmAwareScheduler', () => {
  it('ignores stale metrics: a replica reported saturated long ago is scheduled on proxy-side data', () => {
    const members = scrapedMembers(2, 500);
    const [a, b] = members as [PoolMember, PoolMember];
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    b.endpoint.acquire();
    b.endpoint.acquire();
    // Fresh: a is saturated and gets nothing although it has fewer requests in flight.
    recordServerLoad(a.endpoint, 'metrics', { waiting: 50, running: 4, kvUsage: 0.99 }, Date.now());
    recordServerLoad(b.endpoint, 'metrics', { waiting: 0, running: 2, kvUsage: 0.2 }, Date.now());
    expect(new Set(pickMany(s, 50))).toEqual(new Set([b.endpoint.id]));
    // The same reading 1 s old is past staleAfter (500 ms): ignored, so the proxy's in-flight counts decide.
    recordServerLoad(a.endpoint, 'metrics', { waiting: 50, running: 4, kvUsage: 0.99 }, Date.now() - 1000);
    expect(new Set(pickMany(s, 50))).toEqual(new Set([a.endpoint.id]));
  });

  it('sends a saturated replica no new requests while others have room, even when it holds the prefix', () => {
    const members = scrapedMembers(3);
    const [a, b, c] = members as [PoolMember, PoolMember, PoolMember];
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    for (const m of members)
      recordServerLoad(m.endpoint, 'metrics', { waiting: 0, running: 1, kvUsage: 0.3 }, Date.now());
    const owner = s.pick(ctx({ prompt: `${SYSTEM} question 0` })) as PoolMember;
    recordServerLoad(owner.endpoint, 'metrics', { waiting: 9, running: 4, kvUsage: 0.5 }, Date.now());
    const picked = pickMany(s, 60, (i) => ({ prompt: `${SYSTEM} question ${i}` }));
    expect(picked).not.toContain(owner.endpoint.id);
    // KV-cache use above maxKvCacheUsage saturates as well.
    const other = [a, b, c].find((m) => m !== owner && m.endpoint.id !== picked[0]) as PoolMember;
    recordServerLoad(other.endpoint, 'metrics', { waiting: 0, running: 4, kvUsage: 0.95 }, Date.now());
    expect(new Set(pickMany(s, 60))).toEqual(new Set([picked[0]]));
    // When every replica is saturated, requests still go out.
    for (const m of members) recordServerLoad(m.endpoint, 'metrics', { waiting: 20, running: 4 }, Date.now());
    expect(pickMany(s, 10)).toHaveLength(10);
  });

  it('lets a shared prefix pull a request only onto a replica with a free slot while another has one (llama.cpp)', () => {
    const members = scrapedMembers(2);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const holder = s.pick(ctx({ prompt: `${SYSTEM} conversation 0` })) as PoolMember;
    const other = members.find((m) => m !== holder) as PoolMember;
    // The holder's two slots are busy with requests of this proxy; the other replica has both free.
    holder.endpoint.acquire();
    holder.endpoint.acquire();
    const slots = (processing: number) => ({ slots: { total: 2, processing } });
    recordServerLoad(holder.endpoint, 'slots', slots(2), Date.now());
    recordServerLoad(other.endpoint, 'slots', slots(0), Date.now());
    // Within the load bound (2 + 1 <= 1.25 × 3 / 2 + 2) the prefix would pull every new conversation to the holder.
    expect(new Set(pickMany(s, 20, (i) => ({ prompt: `${SYSTEM} conversation ${i + 1}` })))).toEqual(
      new Set([other.endpoint.id]),
    );
    // With a slot free again the holder gets its prefix's requests back.
    holder.endpoint.release();
    recordServerLoad(holder.endpoint, 'slots', slots(1), Date.now());
    expect(s.pick(ctx({ prompt: `${SYSTEM} conversation 0` }))?.endpoint.id).toBe(holder.endpoint.id);
  });

  it('sends the same prefix to the same replica until that replica is loaded, then spills over', () => {
    const members = scrapedMembers(4);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const first = s.pick(ctx({ prompt: `${SYSTEM} user 0` })) as PoolMember;
    // Unloaded: every request with this prefix (and a different tail) goes to the same replica.
    expect(new Set(pickMany(s, 40, (i) => ({ prompt: `${SYSTEM} user ${i}` })))).toEqual(new Set([first.endpoint.id]));
    // Requests in flight pile up on it until the load bound moves the prefix elsewhere.
    const held: PoolMember[] = [];
    for (let i = 0; i < 12; i++) {
      const m = s.pick(ctx({ prompt: `${SYSTEM} burst ${i}` })) as PoolMember;
      m.endpoint.acquire();
      held.push(m);
    }
    const counts = new Map<string, number>();
    for (const m of held) counts.set(m.endpoint.id, (counts.get(m.endpoint.id) ?? 0) + 1);
    expect(counts.size).toBeGreaterThan(1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(Math.ceil((1.25 * 12) / 4) + 1);
    for (const m of held) m.endpoint.release();
  });

  it('prefers the replica holding the longest prefix', () => {
    const members = scrapedMembers(3);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const conversation = `${SYSTEM} user: first question, rather long to fill a few blocks of text`;
    const a = s.pick(ctx({ prompt: conversation })) as PoolMember;
    // Another user with the same system prompt lands somewhere (maybe a), then a's conversation continues.
    const turn2 = `${conversation} assistant: an answer. user: a follow-up question`;
    expect(idOf(s.pick(ctx({ prompt: turn2 })))).toBe(a.endpoint.id);
  });

  it('does not count its own finished requests that a reading older than them still shows (llama.cpp slots)', () => {
    const members = scrapedMembers(2);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const slots = (processing: number) => ({ slots: { total: 2, processing } });
    const holder = s.pick(ctx({ session: 'alice' })) as PoolMember;
    const other = members.find((m) => m !== holder) as PoolMember;
    // Alice's turn and another conversation run on the holder's two slots when it is scraped…
    holder.endpoint.acquire();
    holder.endpoint.acquire();
    recordServerLoad(holder.endpoint, 'slots', slots(2), Date.now());
    recordServerLoad(other.endpoint, 'slots', slots(0), Date.now());
    // …then her turn ends before the next scrape: her next turn finds a slot there, her cache with it.
    holder.endpoint.release();
    expect(s.pick(ctx({ session: 'alice' }))?.endpoint.id).toBe(holder.endpoint.id);
  });

  it('keeps a session on its replica by session key', () => {
    const members = scrapedMembers(4);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const first = s.pick(ctx({ session: 'alice' })) as PoolMember;
    expect(new Set(pickMany(s, 30, () => ({ session: 'alice' })))).toEqual(new Set([first.endpoint.id]));
  });

  it('prefers a replica running the requested LoRA adapter', () => {
    const members = scrapedMembers(3);
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    const [a, b, c] = members as [PoolMember, PoolMember, PoolMember];
    // The members' upstream model is 'm' (see test-members): b runs it as an adapter.
    recordServerLoad(a.endpoint, 'metrics', { waiting: 0, loras: { running: ['x'], waiting: [], max: 2 } }, Date.now());
    recordServerLoad(b.endpoint, 'metrics', { waiting: 0, loras: { running: ['m'], waiting: [], max: 2 } }, Date.now());
    recordServerLoad(c.endpoint, 'metrics', { waiting: 0, loras: { running: [], waiting: [], max: 2 } }, Date.now());
    expect(new Set(pickMany(s, 30))).toEqual(new Set([b.endpoint.id]));
  });

  it('keeps the prefix memory within its bound under a stream of unique prompts', () => {
    const members = scrapedMembers(4);
    const s = new LlmAwareScheduler(llmAwarePool({ prefixIndexEntries: 500 }), members, new AffinityRegistry());
    for (let i = 0; i < 5000; i++) {
      s.pick(ctx({ prompt: `unique prompt number ${i} ${'x'.repeat(100)} ${i}`, session: `s${i}` }));
      expect(s.affinity.prefixes.size).toBeLessThanOrEqual(500);
    }
    expect(s.affinity.prefixes.size).toBe(500);
    expect(s.affinity.sessions.size).toBe(500);
  });

  it('keeps its prefix index across a snapshot swap with the same endpoints', () => {
    const members = scrapedMembers(4);
    const pool = llmAwarePool({}, 'ns/swap');
    const affinity = new AffinityRegistry();
    const before = new LlmAwareScheduler(pool, members, affinity);
    const owner = before.pick(ctx({ prompt: `${SYSTEM} carry over` })) as PoolMember;
    const after = new LlmAwareScheduler(pool, members, affinity);
    expect(after.affinity).toBe(before.affinity);
    expect(idOf(after.pick(ctx({ prompt: `${SYSTEM} carry over` })))).toBe(owner.endpoint.id);
  });

  it('never returns an excluded or unavailable member', () => {
    const members = scrapedMembers(2);
    const [a, b] = members as [PoolMember, PoolMember];
    const s = new LlmAwareScheduler(llmAwarePool(), members, new AffinityRegistry());
    expect(idOf(s.pick(ctx({ exclude: new Set([a.endpoint]) })))).toBe(b.endpoint.id);
    b.endpoint.health = 'unhealthy';
    expect(s.pick(ctx({ exclude: new Set([a.endpoint]) }))).toBeUndefined();
  });
});
