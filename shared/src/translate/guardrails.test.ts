import { describe, expect, it } from 'vitest';
import { routePolicySpec } from '../api/v1alpha1/index.js';
import { parseManifests } from '../manifests/parse.js';
import { translate } from './index.js';

const POOL = `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: chat }
spec: { provider: vllm, url: "http://chat:8000/v1", models: [{ name: chat }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: chat }
spec: { model: chat, backendRefs: [{ name: chat }] }
---
apiVersion: v1
kind: Secret
metadata: { name: guard }
stringData: { token: guard-token-123 }
---
`;

const policy = (spec: string) => `${POOL}
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: team }
spec:
${spec}
`;

describe('guardrails of a RoutePolicy', () => {
  it('are translated with their defaults, and rules and tenants refer to them by id', () => {
    const { config, problems } = translate(
      parseManifests(
        policy(`  guardrails:
    - name: pii
      local: { mask: [email, phone], deny: [card] }
    - name: moderation
      phases: [request]
      streamWindowChars: 64
      external: { url: "http://guard:8080/check", timeout: 250ms, credentialsRef: { name: guard, key: token } }
  rules: [{ match: { model: { value: chat } }, guardrails: [pii] }]
  tenants: [{ name: a, apiKeys: [], guardrails: [moderation] }]`),
      ),
    );
    expect(problems).toEqual([]);
    const p = config.policies[0];
    expect(p?.guardrails).toEqual([
      {
        id: 'default/team/pii',
        phases: ['request', 'response'],
        streamWindowChars: 128,
        local: { mask: ['email', 'phone'], deny: ['card'] },
      },
      {
        id: 'default/team/moderation',
        phases: ['request'],
        streamWindowChars: 64,
        external: {
          url: 'http://guard:8080/check',
          timeoutMs: 250,
          failureMode: 'closed',
          maxConcurrency: 32,
          token: 'guard-token-123',
        },
      },
    ]);
    expect(config.routes[0]?.guardrails).toEqual(['default/team/pii']);
    expect(p?.tenants[0]?.guardrails).toEqual(['default/team/moderation']);
  });

  it('reports a name that is not a guardrail of the policy and a missing credential as ResolvedRefs problems', () => {
    const { config, problems } = translate(
      parseManifests(
        policy(`  guardrails:
    - name: ext
      external: { url: "http://guard:8080/check", credentialsRef: { name: guard, key: nope } }
  rules: [{ match: { model: { value: chat } }, guardrails: [ext, missing] }]`),
      ),
    );
    expect(problems.map((p) => [p.field, p.reason, p.condition])).toEqual([
      ['spec.guardrails[0].external.credentialsRef', 'SecretNotFound', 'ResolvedRefs'],
      ['spec.rules[0].guardrails[1]', 'GuardrailNotFound', 'ResolvedRefs'],
    ]);
    expect(config.routes[0]?.guardrails).toEqual(['default/team/ext']);
    expect(config.policies[0]?.guardrails?.[0]?.external?.token).toBeUndefined();
  });

  it.each([
    ['neither local nor external', { name: 'g' }, 'exactly one of local or external'],
    ['both', { name: 'g', local: { mask: ['email'] }, external: { url: 'http://g/' } }, 'exactly one'],
    ['a local detector with nothing to do', { name: 'g', local: {} }, 'at least one kind'],
    [
      'a kind both masked and denied',
      { name: 'g', local: { mask: ['card'], deny: ['card'] } },
      'either masked or denied',
    ],
    ['an unknown kind', { name: 'g', local: { mask: ['ssn'] } }, 'Invalid option'],
    ['a non-http URL', { name: 'g', external: { url: 'file:///etc/passwd' } }, 'http'],
  ])('refuses %s', (_what, g, message) => {
    const r = routePolicySpec.safeParse({ rules: [{}], guardrails: [g] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });

  it('refuses two guardrails of the same name', () => {
    const g = { name: 'g', local: { mask: ['email'] } };
    expect(routePolicySpec.safeParse({ rules: [{}], guardrails: [g, g] }).success).toBe(false);
  });
});
