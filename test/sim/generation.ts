/** Admission of a generation request: plan the output, check the context, wait for an engine slot. */
import type { Lease } from './engine.js';
import type { Exchange } from './exchange.js';
import { type GenerationSpec, type OutputPlan, planOutput, planTokens } from './output.js';
import { startStream } from './stream.js';
import { analyzePrompt } from './tokens.js';

/** An admitted request: what to generate and the slot to generate it in. */
export interface Generation {
  plans: OutputPlan[];
  promptTokens: number;
  /** Tokens of all choices. */
  outputTokens: number;
  /** Token steps of the longest choice (drives timing). */
  longestTokens: number;
  lease: Lease;
}

/**
 * Plans the answer, rejects prompts over the context (vLLM/llama.cpp), then waits for a slot (queueing).
 * Returns null when the request was answered with an error or the client went away meanwhile.
 * With `streamType`, flavours that do so send their stream headers before waiting (as vLLM does).
 */
export async function admitGeneration(
  ex: Exchange,
  spec: GenerationSpec,
  model: string,
  streamType: string | null,
): Promise<Generation | null> {
  const rt = ex.rt;
  const prompt = analyzePrompt(spec.prompt, rt.kv ? rt.kv.blockSize : 0);
  const limit = rt.opts.maxModelLen;
  // Like vLLM, an absent max_tokens means "up to the context length"; where only the prompt must fit, a larger
  // max_tokens is cut to what is left.
  const room = Math.max(1, limit - prompt.tokens);
  if (rt.kv && (spec.maxTokens === undefined || (rt.flavour.promptOnlyContext && spec.maxTokens > room)))
    spec = { ...spec, maxTokens: room };
  const controls = ex.controls();
  const plans: OutputPlan[] = [];
  let outputTokens = 0;
  let longestTokens = 0;
  for (let c = 0; c < spec.choices; c++) {
    const plan = planOutput(spec, controls, prompt.seed + c * 7919, rt.opts.outputTokens);
    const t = planTokens(plan);
    plans.push(plan);
    outputTokens += t;
    longestTokens = Math.max(longestTokens, t);
  }
  const completion = Math.max(spec.maxTokens ?? 0, outputTokens);
  if (rt.kv && (rt.flavour.promptOnlyContext ? prompt.tokens > limit : prompt.tokens + completion > limit)) {
    ex.reply(rt.flavour.contextLengthError(prompt.tokens, completion, limit));
    return null;
  }
  const admission = rt.engine.admit({
    promptTokens: prompt.tokens,
    blockHashes: prompt.blockHashes,
    outputTokens,
    adapter: rt.adapterOf(model),
  });
  if (admission.full) {
    ex.error(rt.flavour.overloadStatus, 'Server overloaded: the waiting queue is full, try again later');
    return null;
  }
  ex.onGone = admission.cancel;
  if (streamType && rt.flavour.earlyStreamHeaders) startStream(ex, streamType);
  const lease = await admission.lease;
  if (!lease) return null;
  if (ex.gone) {
    lease.release();
    return null;
  }
  ex.onGone = lease.release;
  return { plans, promptTokens: prompt.tokens, outputTokens, longestTokens, lease };
}
