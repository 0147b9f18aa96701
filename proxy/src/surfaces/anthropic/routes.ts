/**
 * Anthropic surface: `POST /v1/messages`, `POST /v1/messages/count_tokens`, and `GET /v1/models[/{id}]` in
 * Anthropic's shape when the request carries `anthropic-version` (every Anthropic SDK sends it; OpenAI SDKs never
 * do, so they keep getting the OpenAI list). `x-api-key` is read by the auth stage like `Authorization: Bearer`.
 */
import { type Context, Hono, type Next } from 'hono';
import { assertModelVisible, listModels } from '../../auth/authorize.js';
import type { Env } from '../../env.js';
import { checkModelName, handleOperation, requestParser, type SurfaceDeps } from '../handle.js';

/** Paths whose errors use the Anthropic shape. */
export const ownsAnthropicPath = (path: string) => path === '/v1/messages' || path.startsWith('/v1/messages/');

function modelObject(id: string, createdMs: number) {
  return { type: 'model', id, display_name: id, created_at: new Date(createdMs || Date.now()).toISOString() };
}

export function anthropicRoutes(deps: SurfaceDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/messages', (c) => handleOperation(c, deps, requestParser('messages')));
  app.post('/v1/messages/count_tokens', (c) => handleOperation(c, deps, requestParser('count_tokens')));
  const forAnthropic = (c: Context<Env>) => c.req.header('anthropic-version') !== undefined;
  app.get('/v1/models', async (c: Context<Env>, next: Next) => {
    if (!forAnthropic(c)) return next();
    c.get('record').surface = 'anthropic';
    const ids = listModels(deps.store.current, (n) => c.req.header(n));
    const data = ids.map((id) => modelObject(id, deps.store.appliedAt));
    return c.json({ data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
  });
  app.get('/v1/models/:id{.+}', async (c: Context<Env>, next: Next) => {
    if (!forAnthropic(c)) return next();
    c.get('record').surface = 'anthropic';
    const id = c.req.param('id') ?? '';
    checkModelName(id, deps.limits);
    assertModelVisible(deps.store.current, (n) => c.req.header(n), id);
    return c.json(modelObject(id, deps.store.appliedAt));
  });
  return app;
}
