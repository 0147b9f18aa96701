/**
 * Anthropic surface: `POST /v1/messages`, `POST /v1/messages/count_tokens`, and `GET /v1/models[/{id}]` in
 * Anthropic's shape when the request carries `anthropic-version` (every Anthropic SDK sends it; OpenAI SDKs never
 * do, so they keep getting the OpenAI list). `x-api-key` is read by the auth stage like `Authorization: Bearer`.
 */
import { type Context, Hono, type Next } from 'hono';
import { assertModelVisible, listModels } from '../../auth/authorize.js';
import type { Env } from '../../env.js';
import { checkModelName, handleOperation, type SurfaceDeps } from '../handle.js';
import type { Surface } from '../types.js';
import { anthropicStreamError, renderAnthropicError } from './errors.js';
import { countTokensRequest, messagesRequest } from './schemas.js';

export const anthropicSurface: Surface = {
  name: 'anthropic',
  renderError: renderAnthropicError,
  streamError: anthropicStreamError,
};

/** Paths whose errors use the Anthropic shape. */
export const ownsAnthropicPath = (path: string) => path === '/v1/messages' || path.startsWith('/v1/messages/');

/** Canonical prompt text (system, roles, text blocks) for prefix-aware scheduling. */
export function anthropicPromptText(b: Record<string, unknown>): string | undefined {
  const messages = b.messages as Array<{ role?: string; content?: unknown }> | undefined;
  if (!Array.isArray(messages)) return undefined;
  const text = (c: unknown) =>
    typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => (p as { text?: string }).text ?? '').join('') : '';
  let out = b.system !== undefined ? `<|system|>${text(b.system)}` : '';
  for (const m of messages) out += `<|${m.role}|>${text(m.content)}`;
  return out;
}

function modelObject(id: string, createdMs: number) {
  return { type: 'model', id, display_name: id, created_at: new Date(createdMs || Date.now()).toISOString() };
}

export function anthropicRoutes(deps: SurfaceDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/messages', (c) =>
    handleOperation(c, deps, {
      surface: anthropicSurface,
      operation: 'messages',
      schema: messagesRequest,
      stream: (b) => b.stream === true,
      clientWantsUsage: () => true,
      prompt: anthropicPromptText,
    }),
  );
  app.post('/v1/messages/count_tokens', (c) =>
    handleOperation(c, deps, {
      surface: anthropicSurface,
      operation: 'count_tokens',
      schema: countTokensRequest,
      stream: () => false,
    }),
  );
  const forAnthropic = (c: Context<Env>) => c.req.header('anthropic-version') !== undefined;
  app.get('/v1/models', async (c: Context<Env>, next: Next) => {
    if (!forAnthropic(c)) return next();
    c.get('state').surface = 'anthropic';
    const ids = listModels(deps.store.current, (n) => c.req.header(n));
    const data = ids.map((id) => modelObject(id, deps.store.appliedAt));
    return c.json({ data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
  });
  app.get('/v1/models/:id{.+}', async (c: Context<Env>, next: Next) => {
    if (!forAnthropic(c)) return next();
    c.get('state').surface = 'anthropic';
    const id = c.req.param('id') ?? '';
    checkModelName(id, deps.limits);
    assertModelVisible(deps.store.current, (n) => c.req.header(n), id);
    return c.json(modelObject(id, deps.store.appliedAt));
  });
  return app;
}
