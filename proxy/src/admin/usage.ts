/**
 * GET /usage on the admin port: usage and spend from the ledger, aggregated over a period (default: this UTC month
 * so far), grouped by tenant, policy, key id, model, pool, backend, surface or status, optionally per UTC hour, day or
 * month, filtered by exact values. Bearer token required (the usage token, or the push token); tenants' usage is
 * data. Query parameters are validated (400 with the problems); without a ledger the endpoint answers 404.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { Ledger } from '../ledger/index.js';
import { USAGE_DIMENSIONS, USAGE_INTERVALS, type UsageDimension } from '../ledger/query.js';

const DIMENSIONS = Object.keys(USAGE_DIMENSIONS) as [UsageDimension, ...UsageDimension[]];
const MAX_ROWS = 10_000;

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const filter = z.string().min(1).max(256).optional();

/** The query string of GET /usage. */
export const usageParams = z
  .object({
    from: instant.optional().describe('Start of the period (ISO 8601); default: the start of this UTC month.'),
    to: instant.optional().describe('End of the period, exclusive (ISO 8601); default: now.'),
    groupBy: z
      .string()
      .max(256)
      .optional()
      .transform((s, ctx) => {
        const list = (s ?? '').split(',').filter((d) => d !== '');
        const bad = list.filter((d) => !DIMENSIONS.includes(d as UsageDimension));
        if (bad.length > 0)
          ctx.addIssue({
            code: 'custom',
            message: `unknown dimension ${bad.join(', ')}: one of ${DIMENSIONS.join(', ')}`,
          });
        return [...new Set(list)] as UsageDimension[];
      }),
    interval: z.enum(USAGE_INTERVALS).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_ROWS).default(1000),
    policy: filter,
    tenant: filter,
    keyId: filter,
    model: filter,
    pool: filter,
    backend: filter,
    surface: filter,
    status: z
      .string()
      .regex(/^[0-9]{3}$/)
      .optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['from'] });

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Adds GET /usage to `app`. */
export function addUsageRoutes(
  app: Hono,
  deps: { ledger?: Pick<Ledger, 'queryUsage'> | undefined; authorized: (header: string | undefined) => boolean },
  now: () => number = Date.now,
): void {
  app.get('/usage', async (c) => {
    if (!deps.authorized(c.req.header('authorization')))
      return json(401, { error: { message: 'a valid bearer token is required to read usage' } });
    const ledger = deps.ledger;
    if (!ledger) return json(404, { error: { message: 'no usage ledger is configured (--ledger-url)' } });
    const parsed = usageParams.safeParse(c.req.query());
    if (!parsed.success)
      return json(400, {
        error: {
          message: 'invalid usage query',
          problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`),
        },
      });
    const q = parsed.data;
    const to = q.to ?? new Date(now());
    const from = q.from ?? new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), 1));
    const filters: Partial<Record<UsageDimension, string>> = {};
    for (const d of DIMENSIONS) if (q[d] !== undefined) filters[d] = q[d];
    let rows: Awaited<ReturnType<Ledger['queryUsage']>>;
    try {
      rows = await ledger.queryUsage({ from, to, groupBy: q.groupBy, interval: q.interval, filters, limit: q.limit });
    } catch {
      return json(503, { error: { message: 'the usage ledger is unavailable; retry later' } });
    }
    return json(200, {
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy: q.groupBy,
      ...(q.interval ? { interval: q.interval } : {}),
      rows: rows.map(({ group, ...r }) => ({ ...(r.period ? { period: r.period } : {}), ...group, ...r })),
      truncated: rows.length === q.limit,
    });
  });
}
