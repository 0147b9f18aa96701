/**
 * Fleet shares. Every number an operator configures (a replica's `maxConcurrency`, a key's `concurrentRequests`, a
 * limit) means the whole fleet of proxies. Where a proxy decides alone, with no shared store to ask, it uses its
 * share: the number split over the proxies so that the shares add up to exactly the number. The operator tells
 * each proxy how many proxies there are and which one it is (`FleetView`); the split is this pure function, the
 * same in the operator, the proxy and the tests.
 */
import { z } from 'zod';

const place = z.object({
  proxies: z.number().int().min(1).max(100_000).describe('Proxies sharing every fleet-wide number.'),
  ordinal: z.number().int().min(0).max(99_999).describe('This proxy among them, 0-based.'),
});

/** Most earlier places a view carries (see fleetView). */
export const MAX_PREVIOUS_PLACES = 8;

/**
 * A proxy's place in the fleet. While a rebalance is under way (proxies came or went), `previous` lists the places it
 * may have held before: it then uses the smallest of its shares, so the shares of all proxies never add up to more
 * than the number, whichever view each of them holds at that moment.
 */
export const fleetView = place
  .extend({ previous: z.array(place).min(1).max(MAX_PREVIOUS_PLACES).optional() })
  .refine((v) => [v, ...(v.previous ?? [])].every((p) => p.ordinal < p.proxies), {
    message: 'ordinal must be below proxies',
    path: ['ordinal'],
  })
  .describe("This proxy's place among the proxies sharing fleet-wide numbers; absent: it is the only one.");
export type FleetView = z.infer<typeof fleetView>;
/** One place: how many proxies, and which one. */
export type FleetPlace = z.infer<typeof place>;

/** FNV-1a of `salt`: which proxies get the remainder of a number differs per number, spreading the extra units. */
function saltHash(salt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function placeShare(total: number, p: FleetPlace, salt: string): number {
  const base = Math.floor(total / p.proxies);
  const remainder = total - base * p.proxies;
  if (remainder === 0) return base;
  // The `remainder` proxies following a salt-chosen start each take one more unit.
  const offset = saltHash(salt) % p.proxies;
  return base + ((p.ordinal - offset + p.proxies) % p.proxies < remainder ? 1 : 0);
}

/**
 * This proxy's share of `total` (a non-negative integer; Infinity stays Infinity): `floor(total / proxies)` plus one
 * for `total mod proxies` of the proxies, chosen by `salt` (the number's name, e.g. the replica), so the shares of
 * proxies 0…n-1 add up to `total`. Without a view the proxy is the whole fleet and gets `total`.
 */
export function fleetShare(total: number, view: FleetView | undefined, salt: string): number {
  if (!view || !Number.isFinite(total)) return total;
  let share = placeShare(total, view, salt);
  for (const p of view.previous ?? []) share = Math.min(share, placeShare(total, p, salt));
  return share;
}
