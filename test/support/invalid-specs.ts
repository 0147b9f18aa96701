/**
 * Specs that break one admission rule each, with what the apiserver (CRD schema and CEL) and zod (standalone
 * manifests) say about them: both must refuse every case, naming the field. Used by the zod unit test and by the
 * CRD test against a real apiserver.
 */
import type { CustomResourceKind } from '../../shared/src/index.js';

/** One invalid spec. */
export interface InvalidSpec {
  kind: CustomResourceKind;
  what: string;
  spec: Record<string, unknown>;
  /** Text the apiserver's refusal contains (field and message). */
  apiserver: string;
  /** Text zod's `field: message` lines contain. */
  zod: string;
}

const backend = (extra: Record<string, unknown>) => ({ provider: 'openai', models: [{ name: 'm' }], ...extra });
const pool = (extra: Record<string, unknown>) => ({ model: 'm', backendRefs: [{ name: 'b' }], ...extra });
const policy = (rule: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ rules: [rule], ...extra });

export const INVALID_SPECS: InvalidSpec[] = [
  {
    kind: 'LLMBackend',
    what: 'a file:// URL',
    spec: backend({ url: 'file:///etc/passwd' }),
    apiserver: 'spec.url: Invalid value: "file:///etc/passwd": must use the http or https scheme',
    zod: 'url: must use the http or https scheme',
  },
  {
    kind: 'LLMBackend',
    what: 'an ftp:// endpoint',
    spec: backend({ endpoints: [{ url: 'ftp://host/x' }] }),
    apiserver: 'spec.endpoints[0].url: Invalid value: "ftp://host/x": must use the http or https scheme',
    zod: 'endpoints[0].url: must use the http or https scheme',
  },
  {
    kind: 'LLMBackend',
    what: 'credentials in a URL',
    spec: backend({ url: 'https://user:pw@h.example/v1' }),
    apiserver: 'spec.url in body should match',
    zod: 'url: must be an http:// or https:// URL',
  },
  {
    kind: 'LLMBackend',
    what: 'a URL of 3000 characters',
    spec: backend({ url: `https://h.example/${'a'.repeat(3000)}` }),
    apiserver: 'spec.url: Too long',
    zod: 'url: Too big',
  },
  {
    kind: 'LLMBackend',
    what: 'both url and endpoints',
    spec: backend({ url: 'http://h', endpoints: [{ url: 'http://h' }] }),
    apiserver: 'exactly one of serviceRef, url or endpoints must be set',
    zod: 'exactly one of serviceRef, url or endpoints must be set',
  },
  {
    kind: 'LLMBackend',
    what: 'a model listed twice',
    spec: backend({ url: 'http://h', models: [{ name: 'm' }, { name: 'm' }] }),
    apiserver: 'spec.models[1]: Duplicate value',
    zod: 'models[1]: duplicate name "m"',
  },
  {
    kind: 'LLMBackend',
    what: 'a header value with CRLF',
    spec: backend({ url: 'http://h', headers: { 'x-a': 'v\r\nx-b: 1' } }),
    apiserver: 'spec.headers.x-a in body should match',
    zod: 'headers.x-a: must not contain control characters',
  },
  {
    kind: 'LLMBackend',
    what: 'a header name with a space',
    spec: backend({ url: 'http://h', headers: { 'x a': 'v' } }),
    apiserver: 'spec.headers: Invalid value: keys must have at most 256 characters and match',
    zod: 'keys must be HTTP header names',
  },
  {
    kind: 'LLMBackend',
    what: 'a duration without a unit',
    spec: backend({ url: 'http://h', timeouts: { connect: '5' } }),
    apiserver: 'spec.timeouts.connect in body should match',
    zod: 'timeouts.connect: must be a duration such as 500ms, 30s or 1m30s',
  },
  {
    kind: 'LLMBackend',
    what: 'a duration past 596h',
    spec: backend({ url: 'http://h', timeouts: { total: '600h' } }),
    apiserver: 'spec.timeouts.total: Invalid value: "600h": must be at most 596h',
    zod: 'timeouts.total: must be at most 596h',
  },
  {
    kind: 'LLMPool',
    what: 'no backendRef with a positive weight',
    spec: pool({ backendRefs: [{ name: 'b', weight: 0 }] }),
    apiserver: 'spec.backendRefs: Invalid value: at least one backendRef must have a positive weight',
    zod: 'backendRefs: at least one backendRef must have a positive weight',
  },
  {
    kind: 'LLMPool',
    what: 'a backend referenced twice',
    spec: pool({ backendRefs: [{ name: 'b' }, { name: 'b', priority: 1 }] }),
    apiserver: 'spec.backendRefs[1]: Duplicate value',
    zod: 'backendRefs[1]: duplicate name "b"',
  },
  {
    kind: 'LLMPool',
    what: 'an alias repeating the model',
    spec: pool({ aliases: ['m'] }),
    apiserver: 'spec.aliases: Invalid value: aliases must not repeat the model name',
    zod: 'aliases: aliases must not repeat the model name',
  },
  {
    kind: 'LLMPool',
    what: '300 backendRefs',
    spec: pool({ backendRefs: Array.from({ length: 300 }, (_, i) => ({ name: `b${i}` })) }),
    apiserver: 'spec.backendRefs: Too many: 300: must have at most 256 items',
    zod: 'backendRefs: Too big',
  },
  {
    kind: 'LLMPool',
    what: 'a session header that is no header name',
    spec: pool({ scheduling: { llmAware: { sessionHeader: 'x session' } } }),
    apiserver: 'spec.scheduling.llmAware.sessionHeader in body should match',
    zod: 'scheduling.llmAware.sessionHeader: must be an HTTP header name',
  },
  {
    kind: 'RoutePolicy',
    what: 'a fallback to its own pool',
    spec: policy({ pools: [{ name: 'p' }], fallbacks: ['p'] }),
    apiserver: "spec.rules[0].fallbacks: Invalid value: a fallback must not be the rule's own pool",
    zod: "rules[0].fallbacks: a fallback must not be the rule's own pool",
  },
  {
    kind: 'RoutePolicy',
    what: 'the same fallback twice',
    spec: policy({ fallbacks: ['q', 'q'] }),
    apiserver: 'spec.rules[0].fallbacks[1]: Duplicate value: "q"',
    zod: 'rules[0].fallbacks[1]: duplicate value "q"',
  },
  {
    kind: 'RoutePolicy',
    what: 'a pool twice in a split',
    spec: policy({ pools: [{ name: 'p' }, { name: 'p' }] }),
    apiserver: 'spec.rules[0].pools[1]: Duplicate value',
    zod: 'rules[0].pools[1]: duplicate name "p"',
  },
  {
    kind: 'RoutePolicy',
    what: 'a split without a positive weight',
    spec: policy({ pools: [{ name: 'p', weight: 0 }] }),
    apiserver: 'spec.rules[0].pools: Invalid value: at least one pool must have a positive weight',
    zod: 'rules[0].pools: at least one pool must have a positive weight',
  },
  {
    kind: 'RoutePolicy',
    what: 'a tenant defined twice',
    spec: policy(
      {},
      {
        tenants: [
          { name: 't', apiKeys: [] },
          { name: 't', apiKeys: [] },
        ],
      },
    ),
    apiserver: 'spec.tenants[1]: Duplicate value',
    zod: 'tenants[1]: duplicate name "t"',
  },
  {
    kind: 'RoutePolicy',
    what: 'a header pattern that does not compile',
    spec: policy({ match: { headers: [{ name: 'x-team', type: 'RegularExpression', value: '[0-9' }] } }),
    // CEL reports the compile error of its own evaluation at the header match, not at fieldPath.
    apiserver:
      'spec.rules[0].match.headers[0]: Invalid value: "object": Illegal regex: error parsing regexp: missing closing ]',
    zod: 'rules[0].match.headers[0].value: must be an RE2 regular expression',
  },
  {
    kind: 'RoutePolicy',
    what: 'a header pattern with a lookahead (JavaScript, not RE2)',
    spec: policy({ match: { headers: [{ name: 'x-team', type: 'RegularExpression', value: '(?=a)a' }] } }),
    apiserver:
      'spec.rules[0].match.headers[0]: Invalid value: "object": Illegal regex: error parsing regexp: invalid or unsupported Perl syntax',
    zod: 'rules[0].match.headers[0].value: must be an RE2 regular expression',
  },
  {
    kind: 'RoutePolicy',
    what: 'a system prompt of 100 000 characters',
    spec: policy({ systemPrompt: { text: 'x'.repeat(100_000) } }),
    apiserver: 'spec.rules[0].systemPrompt.text: Too long',
    zod: 'rules[0].systemPrompt.text: Too big',
  },
];
