/**
 * What a request generates: deterministic text (seeded by the prompt hash) or tool calls with arguments built from
 * the tool's JSON schema. Flavour-neutral; the flavours only shape it into their protocol.
 */
import type { OutputControls } from './directives.js';
import { applyStop, generatePieces, prng, randomHex, randomId, splitPieces } from './tokens.js';

/** A tool offered by the request, normalised across protocols. */
export interface ToolSpec {
  name: string;
  /** JSON schema of the arguments (OpenAI `parameters`, Anthropic `input_schema`). */
  schema: unknown;
}

/** `auto`, `none`, `required` (OpenAI) / `any` (Anthropic), or one named tool. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Flavour-neutral description of a generation request. */
export interface GenerationSpec {
  /** Canonical prompt text (tokenised for usage and the prefix cache). */
  prompt: string;
  maxTokens: number | undefined;
  stop: readonly string[];
  tools: readonly ToolSpec[];
  toolChoice: ToolChoice;
  /** The last message is the user's (tools are only called in reply to a user turn unless forced). */
  lastFromUser: boolean;
  /** vLLM `ignore_eos`: generate exactly `maxTokens`. */
  ignoreEos?: boolean;
  /** vLLM `min_tokens`. */
  minTokens?: number;
  /** Number of choices (`n`). */
  choices: number;
  /** Prefix of tool call ids (`call_`, `toolu_01`, `chatcmpl-tool-`). */
  toolIdPrefix: string;
  /** A reasoning model with thinking enabled: the answer starts with reasoning tokens (out of `maxTokens`). */
  reasoning?: boolean;
}

/** One tool call: arguments as an object and as the JSON string streamed in fragments. */
export interface PlannedCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  json: string;
  /** `json` cut into token-sized fragments. */
  fragments: string[];
}

/** What one choice generates: reasoning pieces (empty unless the model reasons), then text or tool calls. */
export type OutputPlan = { reasoning: string[] } & (
  | { kind: 'text'; pieces: string[]; finish: 'stop' | 'length'; stopSequence: string | null }
  | { kind: 'tools'; calls: PlannedCall[] }
);

/** Reasoning tokens of a reasoning model's answer when no control sets them. */
const REASONING_TOKENS = 5;

/** Generated tokens of a plan (reasoning, then a tool call costs one token for its name plus one per fragment). */
export function planTokens(plan: OutputPlan): number {
  if (plan.kind === 'text') return plan.reasoning.length + plan.pieces.length;
  let n = plan.reasoning.length;
  for (const c of plan.calls) n += 1 + c.fragments.length;
  return n;
}

const FRAGMENT = 4;

/** Plans choice `index` of a request. */
export function planOutput(
  spec: GenerationSpec,
  controls: OutputControls,
  seed: number,
  defaultTokens: number,
): OutputPlan {
  const wanted = spec.reasoning ? (controls.reasoningTokens ?? REASONING_TOKENS) : 0;
  const reasoning =
    spec.reasoning && controls.reasoningOutput !== undefined
      ? splitPieces(controls.reasoningOutput).slice(0, spec.maxTokens)
      : generatePieces(seed ^ 0x5bd1e995, Math.min(wanted, spec.maxTokens ?? wanted));
  // Reasoning counts against max_tokens, as on every server: the answer gets what is left.
  if (spec.maxTokens !== undefined && reasoning.length > 0)
    spec = { ...spec, maxTokens: spec.maxTokens - reasoning.length };
  if (spec.maxTokens === 0) return { kind: 'text', reasoning, pieces: [], finish: 'length', stopSequence: null };
  const calls = toolCallCount(spec, controls);
  if (calls > 0) return { kind: 'tools', reasoning, calls: planCalls(spec, calls, seed) };
  // The model "wants" to say `natural` tokens then stop; `max_tokens` cuts it ('length' when reached).
  let natural: number;
  let pieces: string[] = [];
  if (controls.output !== undefined) {
    pieces = splitPieces(controls.output);
    natural = pieces.length;
  } else {
    natural = controls.outputTokens ?? defaultTokens;
    if (spec.ignoreEos && spec.maxTokens !== undefined) natural = spec.maxTokens;
    if (spec.minTokens !== undefined) natural = Math.max(natural, spec.minTokens);
  }
  const limit = spec.maxTokens === undefined ? natural : Math.min(natural, spec.maxTokens);
  if (controls.output === undefined) pieces = generatePieces(seed, limit);
  else if (pieces.length > limit) pieces = pieces.slice(0, limit);
  const finish = spec.maxTokens !== undefined && natural >= spec.maxTokens ? 'length' : 'stop';
  const stopped = applyStop(pieces, spec.stop);
  if (stopped.stop !== null)
    return { kind: 'text', reasoning, pieces: stopped.pieces, finish: 'stop', stopSequence: stopped.stop };
  return { kind: 'text', reasoning, pieces, finish, stopSequence: null };
}

function toolCallCount(spec: GenerationSpec, controls: OutputControls): number {
  if (spec.tools.length === 0 || spec.toolChoice === 'none') return 0;
  const forced = spec.toolChoice !== 'auto';
  if (!forced && !spec.lastFromUser) return 0;
  const n = controls.toolCalls ?? 1;
  return forced ? Math.max(1, n) : n;
}

function planCalls(spec: GenerationSpec, count: number, seed: number): PlannedCall[] {
  const next = prng(seed);
  const named = typeof spec.toolChoice === 'object' ? spec.toolChoice.name : null;
  const out: PlannedCall[] = [];
  for (let i = 0; i < count; i++) {
    const tool = (named ? spec.tools.find((t) => t.name === named) : undefined) ?? spec.tools[i % spec.tools.length]!;
    const args = exampleObject(tool.schema, next);
    const json = JSON.stringify(args);
    const fragments: string[] = [];
    for (let j = 0; j < json.length; j += FRAGMENT) fragments.push(json.slice(j, j + FRAGMENT));
    const id = spec.toolIdPrefix.startsWith('chatcmpl') ? randomHex(32) : randomId(24);
    out.push({ id: spec.toolIdPrefix + id, name: tool.name, args, json, fragments });
  }
  return out;
}

type Schema = { [key: string]: unknown };

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exampleObject(schema: unknown, next: () => number): Record<string, unknown> {
  const v = exampleValue(schema, next, 0);
  return isSchema(v) ? v : {};
}

/** A value valid for simple JSON schemas: every property of an object, first enum value, `sim-<n>` strings. */
function exampleValue(schema: unknown, next: () => number, depth: number): unknown {
  if (!isSchema(schema) || depth > 6) return {};
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('const' in schema) return schema.const;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const alts = schema[key];
    if (Array.isArray(alts) && alts.length > 0) return exampleValue(alts[0], next, depth + 1);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return `sim-${Math.floor(next() * 1000)}`;
    case 'integer':
      return Math.floor(next() * 100);
    case 'number':
      return Math.round(next() * 1000) / 10;
    case 'boolean':
      return next() < 0.5;
    case 'null':
      return null;
    case 'array':
      return [exampleValue(schema.items, next, depth + 1)];
    default: {
      const props = isSchema(schema.properties) ? schema.properties : {};
      const obj: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(props)) obj[k] = exampleValue(p, next, depth + 1);
      return obj;
    }
  }
}
