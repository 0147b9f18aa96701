/** Problems found while translating: each names the resource and the field, and becomes a condition. */

export interface Problem {
  kind: 'LLMBackend' | 'LLMPool' | 'RoutePolicy' | 'Secret' | 'Manifest';
  namespace: string;
  name: string;
  /** Path of the offending field, e.g. `spec.backendRefs[1].name`. */
  field: string;
  /** CamelCase reason used as the condition reason, e.g. `BackendNotFound`. */
  reason: string;
  message: string;
  /** Which condition the problem falsifies. */
  condition: 'Accepted' | 'ResolvedRefs';
}

/** One line naming resource, field and message: `LLMPool default/chat: spec.backendRefs[1].name: ...`. */
export function formatProblem(p: Problem): string {
  return `${p.kind} ${p.namespace}/${p.name}: ${p.field}: ${p.message}`;
}
