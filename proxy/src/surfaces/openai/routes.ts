/** OpenAI surface: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses, /v1/rerank, /v1/models. */
import { Hono } from 'hono';
import { assertModelVisible, listModels } from '../../auth/authorize.js';
import type { Env } from '../../env.js';
import { checkModelName, handleOperation, requestParser, type SurfaceDeps } from '../handle.js';

function modelObject(id: string, created: number) {
  return { id, object: 'model', created, owned_by: 'switchyard' };
}

export function openAIRoutes(deps: SurfaceDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/chat/completions', (c) => handleOperation(c, deps, requestParser('chat')));
  app.post('/v1/completions', (c) => handleOperation(c, deps, requestParser('completions')));
  app.post('/v1/embeddings', (c) => handleOperation(c, deps, requestParser('embeddings')));
  app.post('/v1/responses', (c) => handleOperation(c, deps, requestParser('responses')));
  app.post('/v1/rerank', (c) => handleOperation(c, deps, requestParser('rerank')));
  app.get('/v1/models', (c) => {
    c.get('record').surface = 'openai';
    const rt = deps.store.current;
    const created = Math.floor((deps.store.appliedAt || Date.now()) / 1000);
    const data = listModels(rt, (n) => c.req.header(n)).map((id) => modelObject(id, created));
    return c.json({ object: 'list', data });
  });
  app.get('/v1/models/:id{.+}', (c) => {
    c.get('record').surface = 'openai';
    const id = c.req.param('id');
    checkModelName(id, deps.limits);
    assertModelVisible(deps.store.current, (n) => c.req.header(n), id);
    return c.json(modelObject(id, Math.floor(deps.store.appliedAt / 1000)));
  });
  return app;
}
