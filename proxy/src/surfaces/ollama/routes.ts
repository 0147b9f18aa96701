/**
 * Ollama surface: `POST /api/chat`, `/api/generate` (NDJSON streams; `stream` defaults to true as on Ollama),
 * `/api/embed`, legacy `/api/embeddings`, `GET /api/tags`, `POST /api/show`, `GET /api/ps`, `GET /api/version` and
 * `GET /` ("Ollama is running"). Model names are matched exactly as configured (no implicit `:latest`).
 */
import { Hono } from 'hono';
import { assertModelVisible, listModels } from '../../auth/authorize.js';
import type { Env } from '../../env.js';
import { OLLAMA_REQUESTS } from '../../protocols/ollama/schemas.js';
import { checkModelName, handleOperation, readRequestBody, requestParser, type SurfaceDeps } from '../handle.js';

/** Paths whose errors use the Ollama shape. */
export const ownsOllamaPath = (path: string) => path === '/' || path === '/api' || path.startsWith('/api/');

/** The version `/api/version` reports: a recent Ollama release, so clients enable current features. */
export const OLLAMA_VERSION = '0.12.6';

function modelEntry(name: string, modifiedMs: number) {
  const details = {
    parent_model: '',
    format: '',
    family: '',
    families: [],
    parameter_size: '',
    quantization_level: '',
  };
  return {
    name,
    model: name,
    modified_at: new Date(modifiedMs || Date.now()).toISOString(),
    size: 0,
    digest: '',
    details,
  };
}

export function ollamaRoutes(deps: SurfaceDeps): Hono<Env> {
  const app = new Hono<Env>();
  const surfaceState = (c: { get(k: 'record'): Env['Variables']['record'] }) => {
    c.get('record').surface = 'ollama';
  };
  app.post('/api/chat', (c) => handleOperation(c, deps, requestParser('ollama_chat')));
  app.post('/api/generate', (c) => handleOperation(c, deps, requestParser('ollama_generate')));
  app.post('/api/embed', (c) =>
    handleOperation(
      c,
      deps,
      requestParser(
        'ollama_embed',
        OLLAMA_REQUESTS.ollama_embed.refine((b) => b.input !== undefined, {
          message: 'input is required',
          path: ['input'],
        }),
      ),
    ),
  );
  app.post('/api/embeddings', (c) =>
    handleOperation(
      c,
      deps,
      requestParser(
        'ollama_embed',
        OLLAMA_REQUESTS.ollama_embed.refine((b) => typeof b.prompt === 'string' && b.input === undefined, {
          message: 'prompt is required',
          path: ['prompt'],
        }),
      ),
    ),
  );
  app.get('/api/tags', (c) => {
    surfaceState(c);
    const ids = listModels(deps.store.current, (n) => c.req.header(n));
    return c.json({ models: ids.map((id) => modelEntry(id, deps.store.appliedAt)) });
  });
  app.get('/api/ps', (c) => {
    surfaceState(c);
    return c.json({ models: [] });
  });
  app.post('/api/show', async (c) => {
    surfaceState(c);
    const rt = deps.store.current;
    const body = (await readRequestBody(c, deps, rt)) as { model?: unknown; name?: unknown };
    const id = typeof body.model === 'string' ? body.model : typeof body.name === 'string' ? body.name : '';
    checkModelName(id, deps.limits);
    // The caller's own answer first (401 without a key while keys are required): unknown and known models alike.
    assertModelVisible(rt, (n) => c.req.header(n), id);
    const entry = modelEntry(id, deps.store.appliedAt);
    return c.json({
      modelfile: '',
      parameters: '',
      template: '',
      details: entry.details,
      model_info: {},
      capabilities: ['completion', 'tools'],
      modified_at: entry.modified_at,
    });
  });
  app.get('/api/version', (c) => {
    surfaceState(c);
    return c.json({ version: OLLAMA_VERSION });
  });
  app.on(['GET', 'HEAD'], '/', (c) => {
    surfaceState(c);
    return c.text('Ollama is running');
  });
  return app;
}
