/** Bearer-token check for state-changing admin endpoints, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A checker for `Authorization: Bearer <token>`; with no token configured every request is refused. */
export function bearerChecker(token: string | undefined): (header: string | undefined) => boolean {
  const expected = token ? digest(token) : undefined;
  return (header) => {
    if (!expected || !header) return false;
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m?.[1] !== undefined && timingSafeEqual(digest(m[1]), expected);
  };
}
