/**
 * Weighted least-connections, exact: the member with the fewest in-flight requests per unit of weight
 * ((inflight + 1) / weight). Members sit in an indexed min-heap re-keyed whenever an endpoint's in-flight count
 * changes (EndpointState notifies), so a pick is O(log n) plus O(log n) per member skipped, and each
 * acquire/release costs O(log n).
 *
 * Ties go to the least recently picked member, starting from a random order: each proxy replica begins at a
 * different endpoint (no herding), and equal loads rotate evenly. (Drawing uniformly among all tied members
 * on every pick would cost O(ties); a random key per re-key is not uniform: the last winner tends to win again.)
 * With no load the heaviest member wins (as in LVS `wlc`); the shares follow the weights once requests overlap.
 */
import type { PoolMember } from '../config/runtime.js';
import { IndexedHeap } from './indexed-heap.js';
import { IndexedScheduler } from './indexed-scheduler.js';
import { eligible, type PickContext } from './types.js';

export class LeastConnections extends IndexedScheduler {
  private readonly load: Float64Array;
  /** Tie-break: random start order in [0, 1), then the pick counter when picked (least recent first). */
  private readonly tie: Float64Array;
  private readonly heap: IndexedHeap;
  private picks = 0;

  constructor(members: readonly PoolMember[]) {
    super(members);
    const n = this.members.length;
    this.load = new Float64Array(n);
    this.tie = new Float64Array(n).map(() => Math.random());
    const load = this.load;
    const tie = this.tie;
    this.heap = new IndexedHeap(
      n,
      (a, b) =>
        (load[a] as number) < (load[b] as number) || (load[a] === load[b] && (tie[a] as number) < (tie[b] as number)),
    );
    this.start();
  }

  override pick(ctx: PickContext): PoolMember | undefined {
    // A disposed scheduler no longer hears in-flight changes: scan instead of trusting stale keys.
    return this.disposed ? scanLeastLoaded(this.members, ctx) : super.pick(ctx);
  }

  protected add(i: number): void {
    this.setKey(i);
    this.heap.push(i);
  }

  protected drop(i: number): void {
    this.heap.remove(i);
  }

  protected candidate(): number {
    return this.heap.peek();
  }

  protected override rekey(i: number): void {
    if (!this.heap.has(i)) return;
    this.setKey(i);
    this.heap.update(i);
  }

  protected override chosen(i: number): void {
    this.tie[i] = ++this.picks;
    this.heap.update(i);
  }

  private setKey(i: number): void {
    const m = this.members[i] as PoolMember;
    this.load[i] = (m.endpoint.inflight + 1) / m.weight;
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
