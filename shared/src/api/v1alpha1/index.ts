/** switchyard.dev/v1alpha1: the custom resources and the manifest union read in standalone mode. */
import { z } from 'zod';
import { llmBackend } from './llmbackend.js';
import { llmPool } from './llmpool.js';
import { routePolicy } from './routepolicy.js';
import { secret } from './secret.js';

export * from './common.js';
export * from './guardrail.js';
export * from './llmbackend.js';
export * from './llmpool.js';
export * from './routepolicy.js';
export * from './secret.js';

/** Kinds defined by this API group, with their schemas (used to generate CRDs). */
export const CUSTOM_RESOURCES = {
  LLMBackend: { schema: llmBackend, plural: 'llmbackends', singular: 'llmbackend', shortNames: ['llmb'] },
  LLMPool: { schema: llmPool, plural: 'llmpools', singular: 'llmpool', shortNames: ['llmp'] },
  RoutePolicy: { schema: routePolicy, plural: 'routepolicies', singular: 'routepolicy', shortNames: ['rp'] },
} as const;
export type CustomResourceKind = keyof typeof CUSTOM_RESOURCES;

/** Any manifest translation understands. */
export const manifest = z.discriminatedUnion('kind', [llmBackend, llmPool, routePolicy, secret]);
export type Manifest = z.infer<typeof manifest>;
