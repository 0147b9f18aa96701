/**
 * Weighted least-connections, exact, with a uniformly random tie-break: the member with the fewest in-flight
 * requests per unit of weight ((inflight + 1) / weight), and among the members with that same load one drawn at
 * random. Members sit in buckets by load (a swap-remove array each) and the distinct loads in a min-heap, so a pick
 * is O(1) plus O(log n) per member skipped, and each acquire/release (which moves one member to another bucket)
 * costs O(log n). The random draw spreads replicas of the proxy over the tied endpoints (no herding).
 * With no load the heaviest member wins (as in LVS `wlc`); the shares follow the weights once requests overlap.
 */
import type { PoolMember } from '../endpoints/member.js';
import { IndexedScheduler } from './indexed-scheduler.js';
import { eligible, type PickContext } from './types.js';

export class LeastConnections extends IndexedScheduler {
  /** The load each indexed member is filed under (NaN when not indexed). */
  private readonly key: Float64Array;
  /** Position of each indexed member in its bucket. */
  private readonly at: Int32Array;
  /** Load → the members filed under it, in any order (`at` holds their slots). */
  private readonly buckets = new Map<number, number[]>();
  /** Distinct loads (each at most once), possibly including loads whose bucket emptied (dropped when on top). */
  private readonly loads = new LoadHeap();

  constructor(members: readonly PoolMember[]) {
    super(members);
    const n = this.members.length;
    this.key = new Float64Array(n).fill(Number.NaN);
    this.at = new Int32Array(n).fill(-1);
    this.start();
  }

  override pick(ctx: PickContext): PoolMember | undefined {
    // A disposed scheduler no longer hears in-flight changes: scan instead of trusting stale keys.
    return this.disposed ? scanLeastLoaded(this.members, ctx) : super.pick(ctx);
  }

  protected add(i: number): void {
    if (this.at[i] !== -1) return;
    const m = this.members[i] as PoolMember;
    const load = (m.endpoint.inflight + 1) / m.weight;
    let b = this.buckets.get(load);
    if (!b) {
      b = [];
      this.buckets.set(load, b);
      this.loads.push(load);
    }
    this.key[i] = load;
    this.at[i] = b.length;
    b.push(i);
  }

  protected drop(i: number): void {
    const slot = this.at[i] as number;
    if (slot === -1) return;
    const load = this.key[i] as number;
    const b = this.buckets.get(load) as number[];
    const last = b.pop() as number;
    if (last !== i) {
      b[slot] = last;
      this.at[last] = slot;
    }
    this.at[i] = -1;
    this.key[i] = Number.NaN;
    if (b.length === 0) this.buckets.delete(load);
  }

  protected candidate(): number {
    for (;;) {
      const load = this.loads.peek();
      if (load === undefined) return -1;
      const b = this.buckets.get(load);
      if (!b) {
        this.loads.pop();
        continue;
      }
      return b.length === 1 ? (b[0] as number) : (b[(Math.random() * b.length) | 0] as number);
    }
  }

  protected override rekey(i: number): void {
    if (this.at[i] === -1) return;
    const m = this.members[i] as PoolMember;
    if ((m.endpoint.inflight + 1) / m.weight === this.key[i]) return;
    this.drop(i);
    this.add(i);
  }
}

/** A binary min-heap of distinct numbers. */
class LoadHeap {
  private readonly items: number[] = [];
  private readonly present = new Set<number>();

  peek(): number | undefined {
    return this.items[0];
  }

  push(v: number): void {
    if (this.present.has(v)) return;
    this.present.add(v);
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= v) break;
      a[i] = a[p] as number;
      i = p;
    }
    a[i] = v;
  }

  pop(): void {
    const a = this.items;
    const top = a[0];
    if (top === undefined) return;
    this.present.delete(top);
    const last = a.pop() as number;
    if (a.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
      if ((a[c] as number) >= last) break;
      a[i] = a[c] as number;
      i = c;
    }
    a[i] = last;
  }
}

/** O(n) weighted least-connections with a random tie-break (reservoir of one). */
function scanLeastLoaded(members: readonly PoolMember[], ctx: PickContext): PoolMember | undefined {
  let best: PoolMember | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  let ties = 0;
  for (const m of eligible(members, ctx)) {
    const load = (m.endpoint.inflight + 1) / m.weight;
    if (load < bestLoad) {
      bestLoad = load;
      best = m;
      ties = 1;
    } else if (load === bestLoad && Math.random() * ++ties < 1) best = m;
  }
  return best;
}
