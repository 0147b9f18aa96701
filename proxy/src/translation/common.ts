/** Small helpers every translator shares: type guards, the "cannot translate" 400, ids and usage conversions. */
import { randomBytes } from 'node:crypto';
import { errors, GatewayError } from '../errors.js';
import type { Usage } from '../providers/types.js';
import type { OpenAIUsage } from './openai-types.js';

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A 400 for a field the target protocol cannot express; `param` names the field as the client sent it. */
export function untranslatable(param: string, why: string): GatewayError {
  return errors.invalid(`${param}: ${why}`, param, 'untranslatable_field');
}

/** A 502 for an upstream answer the gateway cannot translate. */
export function badUpstream(message: string, code = 'upstream_invalid_response'): GatewayError {
  return new GatewayError(502, 'upstream', message, { code });
}

/** One upstream stream event or line as a JSON object; anything else is a malformed stream (502). */
export function parseStreamEvent(data: string, what = 'stream event'): Json {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    throw badUpstream(`upstream sent a malformed ${what}`, 'upstream_invalid_stream');
  }
  if (!isRecord(v)) throw badUpstream(`upstream sent a ${what} that is not a JSON object`, 'upstream_invalid_stream');
  return v;
}

/** The error for a stream that ends (`[DONE]`, `message_stop`) before it carried any answer. */
export function emptyStream(): GatewayError {
  return badUpstream('upstream ended the stream without an answer', 'upstream_empty_stream');
}

/** A random id with a vendor prefix (`call_`, `toolu_`, `msg_`, `chatcmpl-`). */
export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** Parses a tool call's JSON-string arguments into an object; `param` names the field for the 400/502. */
export function parseArguments(args: string, param: string, upstream = false): Json {
  const text = args.trim() === '' ? '{}' : args;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (isRecord(v)) return v;
  const why = 'tool call arguments must be a JSON object';
  throw upstream ? badUpstream(`${param}: ${why}`, 'upstream_invalid_tool_arguments') : untranslatable(param, why);
}

/** OpenAI usage (prompt tokens include cached ones) from neutral usage. */
export function openAIUsage(u: Usage): OpenAIUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    ...(u.cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: u.cachedInputTokens } } : {}),
  };
}

/** Neutral usage from OpenAI usage. */
export function neutralUsage(u: OpenAIUsage | null | undefined): Usage | undefined {
  if (!u) return undefined;
  const cached = u.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: u.prompt_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    ...(typeof cached === 'number' ? { cachedInputTokens: cached } : {}),
  };
}

/** Rejects `value` at `param` unless it is absent or equal to a value that means "default". */
export function refuseUnlessDefault(body: Json, param: string, why: string, defaults: unknown[] = []): void {
  const v = body[param];
  if (v === undefined || v === null || defaults.includes(v)) return;
  throw untranslatable(param, why);
}
