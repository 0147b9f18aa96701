/** OpenAI surface: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models. */
import { Hono } from 'hono';
import { assertModelVisible, listModels } from '../../auth/authorize.js';
import type { Env } from '../../env.js';
import { checkModelName, handleOperation, type SurfaceDeps } from '../handle.js';
import type { Surface } from '../types.js';
import { openAIStreamError, renderOpenAIError } from './errors.js';
import { chatCompletionRequest, completionRequest, embeddingRequest } from './schemas.js';

export const openAISurface: Surface = {
  name: 'openai',
  renderError: renderOpenAIError,
  streamError: openAIStreamError,
};

const isStream = (b: Record<string, unknown>) => b.stream === true;
const wantsUsage = (b: Record<string, unknown>) =>
  (b.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true;

/** Canonical text of a chat prompt (roles and text parts), for prefix-aware scheduling. */
export function chatPromptText(b: Record<string, unknown>): string | undefined {
  const messages = b.messages as Array<{ role?: string; content?: unknown }> | undefined;
  if (!Array.isArray(messages)) return undefined;
  let out = '';
  for (const m of messages) {
    const c = m.content;
    const text =
      typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => (p as { text?: string }).text ?? '').join('') : '';
    out += `<|${m.role}|>${text}`;
  }
  return out;
}

function modelObject(id: string, created: number) {
  return { id, object: 'model', created, owned_by: 'switchyard' };
}

export function openAIRoutes(deps: SurfaceDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/chat/completions', (c) =>
    handleOperation(c, deps, {
      surface: openAISurface,
      operation: 'chat',
      schema: chatCompletionRequest,
      stream: isStream,
      clientWantsUsage: wantsUsage,
      prompt: chatPromptText,
    }),
  );
  app.post('/v1/completions', (c) =>
    handleOperation(c, deps, {
      surface: openAISurface,
      operation: 'completions',
      schema: completionRequest,
      stream: isStream,
      clientWantsUsage: wantsUsage,
      prompt: (b) => (typeof b.prompt === 'string' ? b.prompt : undefined),
    }),
  );
  app.post('/v1/embeddings', (c) =>
    handleOperation(c, deps, {
      surface: openAISurface,
      operation: 'embeddings',
      schema: embeddingRequest,
      stream: () => false,
    }),
  );
  app.get('/v1/models', (c) => {
    c.get('state').surface = 'openai';
    const rt = deps.store.current;
    const created = Math.floor((deps.store.appliedAt || Date.now()) / 1000);
    const data = listModels(rt, (n) => c.req.header(n)).map((id) => modelObject(id, created));
    return c.json({ object: 'list', data });
  });
  app.get('/v1/models/:id{.+}', (c) => {
    c.get('state').surface = 'openai';
    const id = c.req.param('id');
    checkModelName(id, deps.limits);
    assertModelVisible(deps.store.current, (n) => c.req.header(n), id);
    return c.json(modelObject(id, Math.floor(deps.store.appliedAt / 1000)));
  });
  return app;
}
