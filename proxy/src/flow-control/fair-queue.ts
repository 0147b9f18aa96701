/**
 * The wait queue of one pool, for requests that found no free slot: priority classes strictly ordered (a critical
 * request is always woken before a standard one, a standard one before a sheddable one) and, within a class, one
 * FIFO per flow (tenant) served by weighted fair queueing. Memory is bounded by `maxSize` waiters in all.
 *
 * Fairness is self-clocked fair queueing over request counts (a slot is what is handed out): each class keeps a
 * virtual time, the tag of the last request it woke; a request is tagged `max(virtual time, its flow's last tag) +
 * 1 / weight` and the smallest tag is woken first. Backlogged flows are thus served in proportion to their weights
 * (3:1 gives 3 wakes to 1, interleaved), and a flow that was idle starts at the current virtual time, with no credit
 * saved up. A flow with no waiter is forgotten, so flows cost memory only while they wait.
 *
 * A full queue sheds rather than refuses when it can: a newcomer of a higher class displaces the newest waiter of the
 * lowest class present, and within one class a newcomer displaces the newest waiter of the flow with the largest
 * backlog per weight when that backlog exceeds its own flow's (so one tenant cannot fill the queue and lock the
 * others out). The displaced request ends with 'shed'.
 *
 * Each request holds one Ticket per queue across its waits: woken, it leaves the queue but still counts as ahead
 * of newcomers (`mustWait`) until it took a slot or gave up (`release`); if it lost the race for the slot it waits
 * again with its tag, at its place. Times come from the injected clock.
 */
import type { Clock, Timer } from '../../../shared/src/clock.js';
import { ON_MEMBER, PositionedHeap } from '../scheduling/positioned-heap.js';
import { PRIORITY_CLASSES, type Priority, type PriorityClass, RANK } from './classes.js';

/** How a wait ended: a slot may be free ('woken'), the class's timeout passed, the client left, or it was displaced. */
export type WaitOutcome = 'woken' | 'timeout' | 'aborted' | 'shed';

/** One request's place in one queue, across its waits. */
export class Ticket {
  /** new: never queued here; queued; woken: left the queue to take a slot; done: holds no place any more. */
  state: 'new' | 'queued' | 'woken' | 'done' = 'new';
  /** Virtual finish tag within its class, then arrival order among equal tags. */
  tag = 0;
  seq = 0;
  /** Neighbours in its flow, oldest first. */
  prev: Ticket | undefined;
  next: Ticket | undefined;
  timer: Timer | undefined;
  settle: ((outcome: WaitOutcome) => void) | undefined;

  constructor(readonly priority: Priority) {}
}

/** The waiters of one tenant in one class, oldest first. */
interface Flow {
  readonly key: string;
  weight: number;
  tenant: string | undefined;
  head: Ticket | undefined;
  tail: Ticket | undefined;
  size: number;
  heapIndex: number;
}

/** The flows of one class, by the tag of their oldest waiter. */
class ClassQueue {
  readonly flows = new Map<string, Flow>();
  readonly heap = new PositionedHeap<Flow>((a, b) => before(a.head as Ticket, b.head as Ticket), ON_MEMBER);
  vtime = 0;
  queued = 0;
  woken = 0;
}

const before = (a: Ticket, b: Ticket) => a.tag < b.tag || (a.tag === b.tag && a.seq < b.seq);

/** The waiters of one flow and class, for metrics. */
export interface FlowBacklog {
  cls: PriorityClass;
  tenant: string | undefined;
  waiting: number;
}

export interface FairQueueOptions {
  /** Most requests waiting at once, every class and flow together. */
  maxSize: number;
  clock: Clock;
  /** Called after the number of waiters changed. Must not throw. */
  onChange?: () => void;
}

export class FairQueue {
  private readonly classes = [new ClassQueue(), new ClassQueue(), new ClassQueue()] as const;
  private queued = 0;
  private seq = 0;

  constructor(private readonly opts: FairQueueOptions) {}

  /** Requests waiting now. */
  get length(): number {
    return this.queued;
  }

  /** A place for a request of `priority`; it holds nothing until it waits. */
  ticket(priority: Priority): Ticket {
    return new Ticket(priority);
  }

  /**
   * Whether a request of class `cls` arriving now must queue: some request of its class or a higher one waits, or
   * was woken and has not taken its slot yet. Without this check a newcomer would overtake every waiter.
   */
  mustWait(cls: PriorityClass): boolean {
    for (let r = 0; r <= RANK[cls]; r++) {
      const c = this.classes[r] as ClassQueue;
      if (c.queued + c.woken > 0) return true;
    }
    return false;
  }

  /**
   * Waits up to `timeoutMs` to be woken; then the wait ends with `expiry` ('timeout', or 'woken' for a wait that is
   * only to be looked at again, keeping its place). A ticket that was woken before waits again at its place; a new
   * one is tagged and queued, displacing a lower-ranked waiter when the queue is full, else refused at once ('full').
   */
  wait(ticket: Ticket, timeoutMs: number, expiry: 'timeout' | 'woken' = 'timeout'): Promise<WaitOutcome> | 'full' {
    const cq = this.classOf(ticket.priority.cls);
    if (ticket.state === 'queued') throw new Error('a ticket waits once at a time');
    if (ticket.state === 'woken') {
      cq.woken--;
    } else {
      if (this.queued >= this.opts.maxSize && !this.makeRoom(ticket)) {
        ticket.state = 'done';
        return 'full';
      }
      const flow = cq.flows.get(ticket.priority.flow);
      ticket.tag = Math.max(cq.vtime, flow?.tail?.tag ?? 0) + 1 / ticket.priority.weight;
      ticket.seq = this.seq++;
    }
    this.enqueue(cq, ticket);
    return new Promise<WaitOutcome>((resolve) => {
      ticket.settle = resolve;
      ticket.timer = this.opts.clock.after(timeoutMs, () => this.settle(ticket, expiry));
    });
  }

  /** The class of the waiter `wakeOne` would wake, if any. */
  headClass(): PriorityClass | undefined {
    const r = this.classes.findIndex((cq) => cq.queued > 0);
    return r < 0 ? undefined : PRIORITY_CLASSES[r];
  }

  /** Wakes the first waiter (highest class, smallest tag); false when none waits. */
  wakeOne(): boolean {
    for (const cq of this.classes) {
      const head = cq.heap.peek()?.head;
      if (!head) continue;
      cq.vtime = Math.max(cq.vtime, head.tag);
      this.settle(head, 'woken');
      return true;
    }
    return false;
  }

  /**
   * The request no longer needs the queue: it took a slot, or it ends (a queued ticket ends its wait as 'aborted').
   * Idempotent; every ticket that waited must be released once its request is past the queue.
   */
  release(ticket: Ticket): void {
    if (ticket.state === 'queued') this.settle(ticket, 'aborted');
    if (ticket.state === 'woken') {
      const cq = this.classOf(ticket.priority.cls);
      if (--cq.woken === 0 && cq.queued === 0) cq.vtime = 0;
    }
    ticket.state = 'done';
  }

  /** The waiters per class and tenant (only flows that wait). O(flows). */
  backlog(): FlowBacklog[] {
    const out: FlowBacklog[] = [];
    for (const [r, cq] of this.classes.entries())
      for (const f of cq.flows.values())
        out.push({ cls: PRIORITY_CLASSES[r] as PriorityClass, tenant: f.tenant, waiting: f.size });
    return out;
  }

  private classOf(cls: PriorityClass): ClassQueue {
    return this.classes[RANK[cls]] as ClassQueue;
  }

  private enqueue(cq: ClassQueue, t: Ticket): void {
    const p = t.priority;
    let flow = cq.flows.get(p.flow);
    if (!flow) {
      flow = {
        key: p.flow,
        weight: p.weight,
        tenant: p.tenant,
        head: undefined,
        tail: undefined,
        size: 0,
        heapIndex: -1,
      };
      cq.flows.set(p.flow, flow);
    }
    flow.weight = p.weight;
    // In tag order: a new ticket has the largest tag of its flow, a woken one that lost its race usually the smallest.
    let after = flow.tail;
    while (after && before(t, after)) after = after.prev;
    t.prev = after;
    t.next = after ? after.next : flow.head;
    if (t.next) t.next.prev = t;
    else flow.tail = t;
    if (after) after.next = t;
    else flow.head = t;
    flow.size++;
    cq.heap.push(flow);
    t.state = 'queued';
    cq.queued++;
    this.queued++;
    this.opts.onChange?.();
  }

  /** Ends a queued ticket's wait with `outcome`. */
  private settle(t: Ticket, outcome: WaitOutcome): void {
    if (t.state !== 'queued') return;
    const cq = this.classOf(t.priority.cls);
    const flow = cq.flows.get(t.priority.flow) as Flow;
    if (t.prev) t.prev.next = t.next;
    else flow.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else flow.tail = t.prev;
    t.prev = t.next = undefined;
    flow.size--;
    if (flow.size === 0) {
      cq.heap.remove(flow);
      cq.flows.delete(flow.key);
    } else cq.heap.update(flow);
    cq.queued--;
    this.queued--;
    if (cq.queued === 0 && cq.woken === 0 && outcome !== 'woken') cq.vtime = 0; // nothing holds a tag: start over
    t.timer?.cancel();
    t.timer = undefined;
    if (outcome === 'woken') {
      t.state = 'woken';
      cq.woken++;
    } else t.state = 'done';
    const resolve = t.settle;
    t.settle = undefined;
    this.opts.onChange?.();
    resolve?.(outcome);
  }

  /**
   * The queue is full: sheds the newest waiter of the lowest class below `t`'s, or, within its class, of the flow
   * with the largest backlog per weight if that exceeds `t`'s flow's once `t` joins. False when nothing ranks below t.
   */
  private makeRoom(t: Ticket): boolean {
    const mine = RANK[t.priority.cls];
    for (let r = this.classes.length - 1; r >= mine; r--) {
      const cq = this.classes[r] as ClassQueue;
      if (cq.queued === 0) continue;
      let victim: Flow | undefined;
      for (const f of cq.heap.values()) if (!victim || f.size * victim.weight > victim.size * f.weight) victim = f;
      if (!victim?.tail) return false;
      if (r === mine) {
        const own = (cq.flows.get(t.priority.flow)?.size ?? 0) + 1;
        if (victim.key === t.priority.flow || victim.size * t.priority.weight <= own * victim.weight) return false;
      }
      this.settle(victim.tail, 'shed');
      return true;
    }
    return false;
  }
}
