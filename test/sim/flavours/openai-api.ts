/** api.openai.com: `/v1/*` only, bearer auth, `retry-after-ms` next to `Retry-After`. */
import { openaiRoutes } from './openai.js';
import { openaiDialect } from './openai-dialect.js';
import { bearerMatches, type FlavourDef, type Route } from './types.js';

const routes = new Map<string, Route>(openaiRoutes(openaiDialect));

/** The OpenAI flavour. */
export const openaiFlavour: FlavourDef = {
  name: 'openai',
  routes,
  jsonType: 'application/json',
  baseHeaders: {},
  earlyStreamHeaders: false,
  retryAfterMs: true,
  overloadStatus: 503,
  error: openaiDialect.error,
  notFound: (method, path) => openaiDialect.error(404, `Invalid URL (${method} ${path})`),
  contextLengthError: (p, c, limit) => {
    const reply = openaiDialect.error(
      400,
      `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${p} tokens ` +
        `(and ${c} in the completion). Please reduce the length of the messages.`,
      'messages',
    );
    return { ...reply, body: reply.body.replace('"code":null', '"code":"context_length_exceeded"') };
  },
  authorized: bearerMatches,
};
