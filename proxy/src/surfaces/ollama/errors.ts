/** The Ollama surface's error shape (`{"error":"…"}`) and its mid-stream error line. */
import type { GatewayError } from '../../errors.js';
import type { RenderedError } from '../types.js';

export function renderOllamaError(err: GatewayError): RenderedError {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...err.responseHeaders() },
    body: JSON.stringify({ error: err.message }),
  };
}

/** A mid-stream failure: a final `{"error":"…"}` line; no `done:true` line follows. */
export function ollamaStreamError(err: GatewayError): string {
  return `${JSON.stringify({ error: err.message })}\n`;
}
