/**
 * Which fleet view each proxy gets, so that the shares of a fleet-wide number (a replica's `maxConcurrency`, a
 * local limit) never add up to more than the number while proxies come and go.
 *
 * Places: the active proxies (ready or not, not terminating) sorted by name; proxy i of n gets share i of n
 * (shared/src/proxyconfig/fleet.ts). Each proxy has a *bound*: the places whose smallest share caps what it may
 * apply now (its committed place; at operator start, what it reports). A rebalance to new places runs in two
 * phases:
 * 1. every active proxy with a bound gets its new place with the bound as `previous` (the smaller share of each
 *    number), and proxies without one (new pods, serving nothing) wait: they get no snapshot, so no traffic;
 * 2. once each of the first acknowledged that view with its requests in flight fitting in it (a smaller share
 *    stops new requests at once, but those already sent finish first) and every proxy that left (terminating, still
 *    finishing its requests) is gone from the EndpointSlices, the new places are committed and every proxy gets its
 *    plain place.
 * At any moment each proxy applies at most its bound's share before phase 2 and at most its new share after it, so
 * the sum stays within the number. A proxy that neither acknowledges nor leaves within `timeoutMs` (unreachable,
 * stuck terminating) no longer holds the rebalance up: it is committed anyway and the event logged (`overdue`).
 * When no fleet-wide number exists in the snapshot the views do not matter: places are committed at once.
 */
import type { FleetPlace, FleetView } from '../../../shared/src/index.js';
import { MAX_PREVIOUS_PLACES } from '../../../shared/src/index.js';

/** What a proxy is told: a view (undefined: none, it is the whole fleet) or to wait for a snapshot. */
export type Planned = { view: FleetView | undefined } | 'wait';

const key = (p: FleetPlace) => `${p.proxies}/${p.ordinal}`;
const placeOf = (names: readonly string[], name: string): FleetPlace | undefined => {
  const i = names.indexOf(name);
  return i < 0 ? undefined : { proxies: names.length, ordinal: i };
};

/**
 * A view in its shortest form: earlier places equal to the current one, or of a lone proxy (its share is the whole
 * number: no bound), left out; a lone proxy's place itself is no bound either, so the earlier places stand alone.
 */
function normal(place: FleetPlace, bound: readonly FleetPlace[]): FleetView | undefined {
  const seen = new Set<string>();
  const places: FleetPlace[] = [];
  for (const p of [place, ...bound]) {
    if (p.proxies === 1 || seen.has(key(p))) continue;
    seen.add(key(p));
    places.push({ proxies: p.proxies, ordinal: p.ordinal });
  }
  const [first, ...previous] = places;
  if (!first) return undefined;
  return previous.length === 0 ? first : { ...first, previous: previous.slice(0, MAX_PREVIOUS_PLACES) };
}

/** The JSON identity of a view (undefined and a lone proxy's place are the same: whole numbers). */
export const viewKey = (v: FleetView | undefined): string =>
  v ? `${key(v)}${(v.previous ?? []).map((p) => `<${key(p)}`).join('')}` : '1/0';

export interface FleetPlannerOptions {
  /** How long a rebalance waits for a proxy that neither acknowledges nor leaves (default 60 s). */
  timeoutMs?: number;
  now?: () => number;
}

export class FleetPlanner {
  private active: string[] = [];
  private present = new Set<string>();
  /** Committed bound per proxy name. */
  private bounds = new Map<string, FleetPlace[]>();
  /** The view each proxy last said it applies (viewKey), or null for nothing served. */
  private readonly applied = new Map<string, string | null>();
  /** Whether the snapshot has fleet-wide numbers; undefined before the first snapshot. */
  private relevant: boolean | undefined;
  /** When the running rebalance started (undefined: none runs). */
  private startedAt: number | undefined;
  /** Rebalances committed with a proxy overdue (unacknowledged or still terminating). */
  overdue = 0;

  constructor(private readonly opts: FleetPlannerOptions = {}) {}

  /** Whether the snapshot has fleet-wide numbers; without any, views do not matter and nothing waits. */
  setRelevant(relevant: boolean): void {
    // A snapshot that brings the first fleet-wide numbers: no proxy applies any yet, so nothing needs phasing in.
    // (Before the first snapshot, what proxies hold is learnt from their reports instead.)
    if (!relevant || this.relevant === false) this.commit();
    this.relevant = relevant;
    this.startIfNeeded();
  }

  /** The proxies now: `active` get places; `present` (active and terminating) may still hold their bound. */
  setMembers(active: readonly string[], present: Iterable<string>): void {
    const sorted = [...new Set(active)].sort();
    this.present = new Set(present);
    for (const n of sorted) this.present.add(n);
    for (const n of [...this.applied.keys()]) if (!this.present.has(n)) this.applied.delete(n);
    for (const n of [...this.bounds.keys()]) if (!this.present.has(n)) this.bounds.delete(n);
    this.active = sorted;
    if (this.relevant === false) this.commit();
    this.startIfNeeded();
  }

  /**
   * What `name` says it applies: its fleet view (`settled`: its requests in flight fit in it), or nothing when it
   * serves no snapshot. A proxy with no committed bound (operator start) is bounded by what it reports: its places,
   * or the whole numbers when it reports none.
   */
  report(name: string, serving: boolean, view: FleetView | undefined, settled = true): void {
    this.applied.set(name, serving ? `${settled ? '' : '~'}${viewKey(view)}` : null);
    if (!serving || this.bounds.has(name)) return;
    this.bounds.set(name, view ? [view, ...(view.previous ?? [])] : [{ proxies: 1, ordinal: 0 }]);
    this.startIfNeeded();
  }

  /** What `name` should get now. */
  plan(name: string): Planned {
    const place = placeOf(this.active, name);
    if (!place || this.relevant === undefined) return 'wait';
    if (!this.relevant) return { view: undefined };
    const bound = this.bounds.get(name);
    if (!bound) return 'wait';
    return { view: normal(place, bound) };
  }

  /** Whether a rebalance is under way (some proxy still waits or has a transitional view). */
  get rebalancing(): boolean {
    return this.relevant === true && !this.settled();
  }

  /** Deadline of the running rebalance (ms, on `now`), if one runs. */
  get deadline(): number | undefined {
    return this.startedAt === undefined ? undefined : this.startedAt + (this.opts.timeoutMs ?? 60_000);
  }

  /**
   * Commits the new places when the rebalance's conditions hold (or its deadline passed); true when views
   * changed, so every proxy must be looked at again.
   */
  advance(): boolean {
    if (!this.rebalancing) {
      this.startedAt = undefined;
      return false;
    }
    // Every proxy must have said what it applies before anything is committed (an operator that just started
    // knows nothing else about them).
    const known = this.active.every((n) => this.applied.has(n) || this.bounds.has(n));
    const leftGone = [...this.present].every((n) => this.active.includes(n) || !this.bounds.has(n));
    const acked = this.active.every((n) => {
      const plan = this.plan(n);
      return plan === 'wait' || this.applied.get(n) === viewKey(plan.view);
    });
    const overdue = (this.deadline ?? Number.POSITIVE_INFINITY) <= this.now();
    const ready = known && leftGone && acked;
    if (!ready && !overdue) return false;
    if (!ready) this.overdue++;
    this.commit();
    return true;
  }

  private startIfNeeded(): void {
    if (this.startedAt === undefined && this.rebalancing) this.startedAt = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Every active proxy is bounded by exactly its place and nothing else holds a bound. */
  private settled(): boolean {
    if ([...this.bounds.keys()].some((n) => !this.active.includes(n))) return false;
    return this.active.every((n) => {
      const b = this.bounds.get(n);
      const place = placeOf(this.active, n);
      return b !== undefined && place !== undefined && b.length === 1 && key(b[0] as FleetPlace) === key(place);
    });
  }

  private commit(): void {
    this.bounds = new Map(this.active.map((n, i) => [n, [{ proxies: this.active.length, ordinal: i }]]));
    this.startedAt = undefined;
  }
}
