/**
 * Per-request controls. Both the `x-sim-*` headers and `[sim …]` directives written anywhere in the request body
 * (usually in the prompt, so they survive proxies that drop unknown headers) use one syntax:
 * `key=value; key2=value2; flag`. Keys are case-insensitive; values may be wrapped in double quotes in headers.
 * In a body directive a value cannot contain `;`, `]`, `"` or `\`.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Parsed `key=value; flag` pairs; flags map to `true`. */
export type Directives = Record<string, string | true>;

/** Parses `key=value; flag; key2="quoted value"`. */
export function parseDirectives(text: string): Directives {
  const out: Directives = {};
  for (const part of text.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) {
      out[p.toLowerCase()] = true;
      continue;
    }
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return out;
}

/** Merges every `[sim …]` directive found in a raw body (later ones win); null when there is none. */
export function bodyDirectives(raw: string): Directives | null {
  let at = raw.indexOf('[sim ');
  if (at < 0) return null;
  const out: Directives = {};
  while (at >= 0) {
    const end = raw.indexOf(']', at);
    if (end < 0) break;
    Object.assign(out, parseDirectives(raw.slice(at + 5, end)));
    at = raw.indexOf('[sim ', end);
  }
  return out;
}

/** Output controls of one request. */
export interface OutputControls {
  /** Exact text to generate (`x-sim-output` / `output=`). */
  output?: string;
  /** Natural length of the answer in tokens (`x-sim-output-tokens` / `output-tokens=`). */
  outputTokens?: number;
  /** Reasoning tokens a reasoning model generates before answering (`x-sim-reasoning-tokens` / `reasoning-tokens=`). */
  reasoningTokens?: number;
  /** Exact reasoning text of a reasoning model (`x-sim-reasoning-output` / `reasoning-output=`). */
  reasoningOutput?: string;
  /** Number of tool calls when the request offers tools (`x-sim-tool-calls` / `tool-calls=`); 0 answers text. */
  toolCalls?: number;
}

function headerText(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = Array.isArray(v) ? v.join(', ') : v;
  // Node decodes header bytes as latin1; restore UTF-8, then undo percent-encoding if the value uses it.
  const utf8 = Buffer.from(s, 'latin1').toString('utf8');
  if (!/%[0-9A-Fa-f]{2}/.test(utf8)) return utf8;
  try {
    return decodeURIComponent(utf8);
  } catch {
    return utf8;
  }
}

function int(v: string | true | undefined): number | undefined {
  if (v === undefined || v === true) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Reads output controls; headers win over body directives. */
export function outputControls(headers: IncomingHttpHeaders, directives: Directives | null): OutputControls {
  const c: OutputControls = {};
  const d = directives ?? {};
  const output = headerText(headers['x-sim-output']) ?? (typeof d.output === 'string' ? d.output : undefined);
  if (output !== undefined) c.output = output;
  const tokens = int(headerText(headers['x-sim-output-tokens'])) ?? int(d['output-tokens']);
  if (tokens !== undefined) c.outputTokens = tokens;
  const reasoning = int(headerText(headers['x-sim-reasoning-tokens'])) ?? int(d['reasoning-tokens']);
  if (reasoning !== undefined) c.reasoningTokens = reasoning;
  const reasoningOutput =
    headerText(headers['x-sim-reasoning-output']) ??
    (typeof d['reasoning-output'] === 'string' ? d['reasoning-output'] : undefined);
  if (reasoningOutput !== undefined) c.reasoningOutput = reasoningOutput;
  const calls = int(headerText(headers['x-sim-tool-calls'])) ?? int(d['tool-calls']);
  if (calls !== undefined) c.toolCalls = calls;
  return c;
}
