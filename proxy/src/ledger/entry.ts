/**
 * One finished request as the ledger keeps it (a row of `switchyard.usage`), and how a batch of them becomes one
 * INSERT: one array parameter per column (`unnest`), so a batch of any size is a single statement with a fixed
 * number of parameters. Client-supplied strings are capped; nothing here is prompt or answer text.
 */

export interface LedgerEntry {
  /** Unique per entry (a retried batch inserts each entry once). */
  id: string;
  requestId: string;
  startedAt: number;
  finishedAt: number;
  surface: string;
  /** The caller's RoutePolicy (namespace/name) and tenant, when it presented a known key. */
  policy?: string | undefined;
  tenant?: string | undefined;
  /** The API key's id (a hash prefix, never the key). */
  keyId?: string | undefined;
  /** The model name the client asked for. */
  model?: string | undefined;
  pool?: string | undefined;
  backend?: string | undefined;
  endpoint?: string | undefined;
  stream: boolean;
  status: number;
  errorCode?: string | undefined;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  usageEstimated: boolean;
  cost?: number | undefined;
  currency?: string | undefined;
  cache?: string | undefined;
  /** The strongest guardrail action taken (`deny`, `mask`), if any. */
  guardrail?: string | undefined;
}

const MAX_TEXT = 256;
const text = (v: string | undefined): string | null => (v === undefined ? null : v.slice(0, MAX_TEXT));
const count = (v: number): number => (Number.isFinite(v) && v > 0 ? Math.round(v) : 0);
const iso = (ms: number): string => new Date(Number.isFinite(ms) ? ms : 0).toISOString();

/** The columns and their PostgreSQL types, in insert order, with each entry's value. */
const COLUMNS: ReadonlyArray<readonly [string, string, (e: LedgerEntry) => string | number | boolean | null]> = [
  ['id', 'uuid', (e) => e.id],
  ['request_id', 'text', (e) => e.requestId.slice(0, MAX_TEXT)],
  ['started_at', 'timestamptz', (e) => iso(e.startedAt)],
  ['finished_at', 'timestamptz', (e) => iso(e.finishedAt)],
  ['duration_ms', 'integer', (e) => Math.min(2 ** 31 - 1, count(e.finishedAt - e.startedAt))],
  ['surface', 'text', (e) => e.surface.slice(0, MAX_TEXT)],
  ['policy', 'text', (e) => text(e.policy)],
  ['tenant', 'text', (e) => text(e.tenant)],
  ['key_id', 'text', (e) => text(e.keyId)],
  ['model', 'text', (e) => text(e.model)],
  ['pool', 'text', (e) => text(e.pool)],
  ['backend', 'text', (e) => text(e.backend)],
  ['endpoint', 'text', (e) => text(e.endpoint)],
  ['stream', 'boolean', (e) => e.stream],
  ['status', 'smallint', (e) => (Number.isInteger(e.status) && e.status >= 0 && e.status < 1000 ? e.status : 0)],
  ['error_code', 'text', (e) => text(e.errorCode)],
  ['attempts', 'smallint', (e) => Math.min(32_767, count(e.attempts))],
  ['input_tokens', 'bigint', (e) => count(e.inputTokens)],
  ['output_tokens', 'bigint', (e) => count(e.outputTokens)],
  ['cached_input_tokens', 'bigint', (e) => count(e.cachedInputTokens)],
  ['usage_estimated', 'boolean', (e) => e.usageEstimated],
  ['cost', 'numeric', (e) => (e.cost !== undefined && Number.isFinite(e.cost) && e.cost >= 0 ? e.cost : null)],
  ['currency', 'text', (e) => text(e.currency)],
  ['cache', 'text', (e) => text(e.cache)],
  ['guardrail', 'text', (e) => text(e.guardrail)],
];

/** The INSERT of a batch into `table`, and its parameters (one array per column). Idempotent per entry id. */
export function insertStatement(table: string, batch: readonly LedgerEntry[]): { text: string; values: unknown[] } {
  const names = COLUMNS.map(([n]) => n).join(', ');
  const arrays = COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  return {
    text: `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) ON CONFLICT (id) DO NOTHING`,
    values: COLUMNS.map(([, , value]) => batch.map(value)),
  };
}
