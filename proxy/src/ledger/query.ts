/**
 * Reading the ledger: usage and spend aggregated over a period, grouped by any of a fixed set of dimensions
 * (columns are never taken from the caller's text), and the sums a budget counter is rebuilt from. Costs are summed
 * per currency: amounts in different currencies are never added together.
 */
import type { Pool } from 'pg';

/** Dimensions a usage query can group and filter by, and their columns. */
export const USAGE_DIMENSIONS = {
  policy: 'policy',
  tenant: 'tenant',
  keyId: 'key_id',
  model: 'model',
  pool: 'pool',
  backend: 'backend',
  surface: 'surface',
  status: 'status',
} as const;
export type UsageDimension = keyof typeof USAGE_DIMENSIONS;

export const USAGE_INTERVALS = ['hour', 'day', 'month'] as const;
export type UsageInterval = (typeof USAGE_INTERVALS)[number];

export interface UsageQuery {
  /** Inclusive start and exclusive end of the period (by the time requests finished). */
  from: Date;
  to: Date;
  groupBy: readonly UsageDimension[];
  /** Also split the period into UTC hours, days or months. */
  interval?: UsageInterval | undefined;
  /** Exact-match filters. */
  filters: Partial<Record<UsageDimension, string>>;
  /** Most rows returned. */
  limit: number;
}

export interface UsageRow {
  /** Start of the interval (ISO), when the query has one. */
  period?: string;
  /**
   * The value of each grouped dimension (null where the requests had none, e.g. anonymous callers); `status` is the
   * HTTP status as a number.
   */
  group: Partial<Record<UsageDimension, string | number | null>>;
  currency: string | null;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Estimated cost in `currency`; null for requests of backends without pricing. */
  cost: number | null;
}

type Row = Record<string, string | number | null>;

const num = (v: string | number | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));

/** Aggregated usage of `table` for `q`. */
export async function queryUsage(db: Pool, table: string, q: UsageQuery): Promise<UsageRow[]> {
  const values: unknown[] = [q.from.toISOString(), q.to.toISOString()];
  const where = ['finished_at >= $1', 'finished_at < $2'];
  for (const [dim, value] of Object.entries(q.filters) as Array<[UsageDimension, string | undefined]>) {
    if (value === undefined) continue;
    values.push(dim === 'status' ? Number(value) : value);
    where.push(`${USAGE_DIMENSIONS[dim]} = $${values.length}`);
  }
  const groups = q.groupBy.map((d) => `${USAGE_DIMENSIONS[d]} AS "${d}"`);
  if (q.interval) groups.unshift(`date_trunc('${q.interval}', finished_at, 'UTC') AS period`);
  const groupCols = [...(q.interval ? ['period'] : []), ...q.groupBy.map((d) => `"${d}"`), 'currency'];
  values.push(q.limit);
  const sql = `SELECT ${[...groups, 'currency'].join(', ')},
      count(*) AS requests,
      count(*) FILTER (WHERE status >= 400) AS errors,
      sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens,
      sum(cached_input_tokens) AS cached_input_tokens,
      sum(cost) AS cost
    FROM ${table}
    WHERE ${where.join(' AND ')}
    GROUP BY ${groupCols.join(', ')}
    ORDER BY ${q.interval ? 'period, ' : ''}sum(cost) DESC NULLS LAST, count(*) DESC
    LIMIT $${values.length}`;
  const { rows } = await db.query<Row>(sql, values);
  return rows.map((r) => {
    const group: UsageRow['group'] = {};
    for (const d of q.groupBy) {
      const v = r[d];
      group[d] = v === null || v === undefined ? null : d === 'status' ? Number(v) : String(v);
    }
    const period = r.period as unknown;
    return {
      ...(q.interval ? { period: period instanceof Date ? period.toISOString() : String(period) } : {}),
      group,
      currency: r.currency === null ? null : String(r.currency),
      requests: num(r.requests),
      errors: num(r.errors),
      inputTokens: num(r.input_tokens),
      outputTokens: num(r.output_tokens),
      cachedInputTokens: num(r.cached_input_tokens),
      cost: r.cost === null ? null : num(r.cost),
    };
  });
}

/** Which requests one budget counter counts: served by one of `pools`, from this caller (when given). */
export interface BudgetScope {
  pools: readonly string[];
  /** The caller's policy and tenant (tenant-scoped counters). */
  tenant?: { policy: string; name: string } | undefined;
  /** The caller's key id (key-scoped counters). */
  keyId?: string | undefined;
  from: Date;
  to: Date;
}

/** Tokens (input + output) and cost (all currencies, as budgets count it) the ledger holds for `scope`. */
export async function budgetUsage(
  db: Pool,
  table: string,
  scope: BudgetScope,
): Promise<{ tokens: number; cost: number }> {
  const values: unknown[] = [scope.from.toISOString(), scope.to.toISOString(), scope.pools];
  const where = ['finished_at >= $1', 'finished_at < $2', 'pool = ANY($3::text[])'];
  if (scope.tenant) {
    values.push(scope.tenant.policy, scope.tenant.name);
    where.push(`policy = $${values.length - 1}`, `tenant = $${values.length}`);
  }
  if (scope.keyId !== undefined) {
    values.push(scope.keyId);
    where.push(`key_id = $${values.length}`);
  }
  const { rows } = await db.query<Row>(
    `SELECT coalesce(sum(input_tokens + output_tokens), 0) AS tokens, coalesce(sum(cost), 0) AS cost
       FROM ${table} WHERE ${where.join(' AND ')}`,
    values,
  );
  return { tokens: num(rows[0]?.tokens), cost: num(rows[0]?.cost) };
}
