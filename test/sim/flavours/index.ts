/** Flavour lookup. */
import type { Flavour } from '../types.js';
import { anthropicFlavour } from './anthropic.js';
import { llamacppFlavour } from './llamacpp.js';
import { ollamaFlavour } from './ollama.js';
import { openaiFlavour } from './openai-api.js';
import type { FlavourDef } from './types.js';
import { vllmFlavour } from './vllm.js';

const FLAVOURS: Record<Flavour, FlavourDef> = {
  vllm: vllmFlavour,
  llamacpp: llamacppFlavour,
  openai: openaiFlavour,
  anthropic: anthropicFlavour,
  ollama: ollamaFlavour,
};

/** The definition of `name`; throws on an unknown flavour. */
export function flavourDef(name: Flavour): FlavourDef {
  const f = FLAVOURS[name];
  if (!f) throw new Error(`unknown simulator flavour "${name}" (expected ${Object.keys(FLAVOURS).join(', ')})`);
  return f;
}

/** Every flavour name. */
export const FLAVOUR_NAMES = Object.keys(FLAVOURS) as Flavour[];
