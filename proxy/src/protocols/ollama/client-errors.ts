/** The Ollama surface's error shape (`{"error":"…"}`) and its mid-stream error line. */
import type { ErrorShape } from '../types.js';

/** Ollama error responses, and a mid-stream failure as a final `{"error":"…"}` line with no `done:true` line after it. */
export const ollamaErrors: ErrorShape = {
  renderError: (err) => ({
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...err.responseHeaders() },
    body: JSON.stringify({ error: err.message }),
  }),
  streamError: (err) => `${JSON.stringify({ error: err.message })}\n`,
};
