import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { snapshotVersion } from '../../../shared/src/proxyconfig/index.js';
import { translate } from '../../../shared/src/translate/index.js';
import { compileRuntime } from '../config/runtime.js';
import { InvalidSnapshotError, SnapshotStore } from '../config/store.js';
import { resolveRoute } from './resolve.js';

const pool = (name: string, aliases: string[] = []) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name} }
spec: { provider: vllm, url: "http://${name}:8000/v1", models: [{ name: ${name} }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${name} }
spec: { model: ${name}, aliases: [${aliases.join(', ')}], backendRefs: [{ name: ${name} }] }
---
`;

const rules = (yaml: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: rules }
spec:
  rules:
${yaml}
`;

const runtimeOf = (text: string) => compileRuntime(translate(parseManifests(text)).config);
const none = () => undefined;

describe('resolveRoute', () => {
  const rt = runtimeOf(
    `${pool('chat', ['assistant'])}${pool('big')}${pool('small')}${rules(`    - match: { model: { value: chat } }
      pools: [{ name: big }]
      systemPrompt: { text: for chat }
    - match: { model: { value: assistant } }
      pools: [{ name: small }]
    - match: { model: { value: ab } }
      pools: [{ name: big, weight: 2 }, { name: small, weight: 1 }]
    - match: { model: { value: big } }
      fallbacks: [small]`)}`,
  );

  it('treats a pool’s aliases as its name, preferring a rule on the name asked for', () => {
    expect(resolveRoute(rt, { model: 'chat', header: none }).pools[0]?.config.id).toBe('default/big');
    // A rule on `assistant` itself beats the rule on the pool's other name.
    expect(resolveRoute(rt, { model: 'assistant', header: none }).pools[0]?.config.id).toBe('default/small');
  });

  it('splits by smooth weighted round-robin; a visibility check does not advance it', () => {
    const picks = Array.from({ length: 6 }, () => resolveRoute(rt, { model: 'ab', header: none }).pools[0]?.config.id);
    expect(picks).toEqual([
      'default/big',
      'default/small',
      'default/big',
      'default/big',
      'default/small',
      'default/big',
    ]);
    for (let i = 0; i < 5; i++) resolveRoute(rt, { model: 'ab', header: none }, 'first');
    expect(resolveRoute(rt, { model: 'ab', header: none }).pools[0]?.config.id).toBe('default/big');
    expect(resolveRoute(rt, { model: 'ab', header: none }, 'first').candidates.map((p) => p.config.id)).toEqual([
      'default/big',
      'default/small',
    ]);
  });

  it('applies the system prompt of a rule covering the pool when the rule that routed has none', () => {
    // `big` is called by its own name: its rule has no prompt, the `chat` rule (which splits to `big`) has one.
    const plan = resolveRoute(rt, { model: 'big', header: none });
    expect(plan.route?.match.model?.value).toBe('big');
    expect(plan.systemPrompt).toEqual({ text: 'for chat', mode: 'prepend' });
    expect(plan.pools.map((p) => p.config.id)).toEqual(['default/big', 'default/small']);
  });
});

describe('header patterns in snapshots', () => {
  it('refuses a snapshot whose pattern RE2 cannot compile, naming the field', () => {
    const { config } = translate(
      parseManifests(
        `${pool('chat')}${rules(`    - match: { headers: [{ name: x-a, type: RegularExpression, value: "a+" }] }`)}`,
      ),
    );
    const store = new SnapshotStore();
    for (const bad of ['(?=a)a', 'a)(b']) {
      const edited = structuredClone(config);
      (edited.routes[0]?.match.headers[0] as { value: string }).value = bad;
      const versioned = { ...edited, version: snapshotVersion(edited) };
      expect(() => store.apply(versioned)).toThrow(InvalidSnapshotError);
      expect(() => store.apply(versioned)).toThrow(
        /routes\[0\]\.match\.headers\[0\]\.value: must be an RE2 regular expression/,
      );
    }
    expect(store.current).toBeUndefined();
  });
});
