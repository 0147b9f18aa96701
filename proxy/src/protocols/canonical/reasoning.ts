/**
 * Reasoning in the canonical form. A request asks for it with OpenAI's `reasoning_effort` (`none` … `xhigh`); each
 * upstream protocol writes that in its own terms (Anthropic `thinking.budget_tokens`, Ollama `think`, vLLM and
 * llama.cpp `reasoning_effort` or `chat_template_kwargs.enable_thinking`). Reasoning text travels as
 * `reasoning_content` on answers, chunks and earlier assistant turns, with `reasoning_signature` beside it when the
 * text came from Anthropic (the signature Anthropic checks when a thinking block comes back; no other upstream can
 * use it, so only the Anthropic upstream half sends it).
 */
import type { ChatMessage } from './chat.js';

/** The reasoning efforts the canonical request takes (OpenAI's values). */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** The smallest thinking budget Anthropic accepts. */
export const MIN_THINKING_BUDGET = 1024;

/** Anthropic thinking budgets written for each effort (`none` asks for no thinking). */
const BUDGETS: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16_384,
  xhigh: 32_768,
};

/** The thinking budget an effort stands for; undefined for `none`. */
export function budgetOfEffort(effort: ReasoningEffort): number | undefined {
  return effort === 'none' ? undefined : BUDGETS[effort];
}

/** The effort an Anthropic thinking budget stands for (the nearest level at or below it). */
export function effortOfBudget(budget: number): ReasoningEffort {
  if (budget < BUDGETS.medium) return 'low';
  if (budget < BUDGETS.high) return 'medium';
  return 'high';
}

/** A message or delta that may carry reasoning under `reasoning_content` or under the `reasoning` alias. */
type WithReasoning = { reasoning_content?: unknown; reasoning?: unknown };

/**
 * The reasoning text of an upstream message or delta: `reasoning_content` (DeepSeek, llama.cpp, vLLM before 0.11),
 * else `reasoning` (vLLM since 0.11, OpenRouter, Groq, Ollama's OpenAI API) — a zod preprocess, so every reader of
 * the canonical form finds it under `reasoning_content`.
 */
export function withReasoningAlias(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const m = v as WithReasoning;
  if (typeof m.reasoning_content === 'string' || typeof m.reasoning !== 'string') return v;
  return { ...m, reasoning_content: m.reasoning };
}

/** The reasoning of an earlier assistant turn and its Anthropic signature, when it has any. */
export function turnReasoning(m: ChatMessage): { text: string; signature: string | undefined } | undefined {
  const text = m.reasoning_content;
  if (typeof text !== 'string' || text === '') return undefined;
  const signature =
    typeof m.reasoning_signature === 'string' && m.reasoning_signature ? m.reasoning_signature : undefined;
  return { text, signature };
}

/** `m` without its reasoning fields (for upstreams that take no reasoning in earlier turns). */
export function withoutReasoning(m: ChatMessage): ChatMessage {
  const { reasoning_content: _r, reasoning_signature: _s, ...rest } = m;
  return rest;
}
