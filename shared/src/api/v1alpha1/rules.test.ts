import { describe, expect, it } from 'vitest';
import { INVALID_SPECS } from '../../../../test/support/invalid-specs.js';
import { formatZodIssues } from '../../manifests/parse.js';
import { llmBackendSpec, llmPoolSpec, routePolicySpec } from './index.js';

const SPECS = { LLMBackend: llmBackendSpec, LLMPool: llmPoolSpec, RoutePolicy: routePolicySpec };
const issues = (kind: keyof typeof SPECS, spec: unknown) => {
  const r = SPECS[kind].safeParse(spec);
  return r.success ? [] : formatZodIssues(r.error);
};

/** The rules the CRDs carry as CEL: standalone manifests are refused where the apiserver refuses, by field. */
describe('admission rules (zod side)', () => {
  it.each(INVALID_SPECS.map((c) => [c.kind, c.what, c] as const))('%s: refuses %s', (_kind, _what, c) => {
    expect(issues(c.kind, c.spec).join('\n')).toContain(c.zod);
  });

  it('accepts what the rules allow: a split whose pools fall back to each other, zero-weight standbys', () => {
    const split = {
      rules: [
        {
          pools: [
            { name: 'p', weight: 9 },
            { name: 'q', weight: 1 },
          ],
          fallbacks: ['q'],
        },
      ],
    };
    expect(issues('RoutePolicy', split)).toEqual([]);
    const standby = { model: 'm', backendRefs: [{ name: 'a' }, { name: 'b', weight: 0, priority: 1 }] };
    expect(issues('LLMPool', standby)).toEqual([]);
    const port = { provider: 'openai', models: [{ name: 'm' }], url: 'https://api.example.com:8443/v1' };
    expect(issues('LLMBackend', port)).toEqual([]);
  });
});
