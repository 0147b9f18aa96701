/**
 * The ledger's schema, owned by the project: numbered migrations applied in order, each once, recorded in
 * `switchyard.schema_migrations`. Every proxy runs `migrate()` when it connects; a transaction-scoped advisory lock
 * makes concurrent replicas apply each migration exactly once. A database already at a newer version than this
 * build knows is left alone (a rolled-back proxy keeps writing the columns it knows). Migrations only add: a column
 * a newer migration adds is nullable or defaulted, so older proxies' inserts keep working during a rolling update.
 */
import type { Pool } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Schema holding every ledger table. */
export const LEDGER_SCHEMA = 'switchyard';

/** Arbitrary constant key of the advisory lock migrations take (one per database). */
const MIGRATION_LOCK = 0x5377_7961;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'usage records',
    sql: `
CREATE TABLE ${LEDGER_SCHEMA}.usage (
  id uuid PRIMARY KEY,
  request_id text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  surface text NOT NULL,
  policy text,
  tenant text,
  key_id text,
  model text,
  pool text,
  backend text,
  endpoint text,
  stream boolean NOT NULL,
  status smallint NOT NULL,
  error_code text,
  attempts smallint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cached_input_tokens bigint NOT NULL,
  usage_estimated boolean NOT NULL,
  cost numeric(30, 12),
  currency text,
  cache text,
  guardrail text
);
CREATE INDEX usage_finished_at ON ${LEDGER_SCHEMA}.usage (finished_at);
CREATE INDEX usage_tenant ON ${LEDGER_SCHEMA}.usage (policy, tenant, finished_at);
CREATE INDEX usage_key ON ${LEDGER_SCHEMA}.usage (key_id, finished_at);
CREATE INDEX usage_pool ON ${LEDGER_SCHEMA}.usage (pool, finished_at);
`,
  },
];

/** The highest version this build knows. */
export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Applies the migrations `pool`'s database lacks; returns the versions applied (none when up to date). */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${LEDGER_SCHEMA}.schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${LEDGER_SCHEMA}.schema_migrations`);
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${LEDGER_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
