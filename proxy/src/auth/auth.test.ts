import { describe, expect, it } from 'vitest';
import type { PolicyConfig, ProxyConfig } from '../../../shared/src/proxyconfig/index.js';
import { buildDirectory } from '../config/directory.js';
import { hashKey, readApiKey } from './api-key.js';
import { modelAllowed } from './model-access.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('readApiKey', () => {
  it('reads x-api-key, Authorization: Bearer and a bare Authorization value', () => {
    expect(readApiKey(headers({ 'x-api-key': ' k1 ' }))).toBe('k1');
    expect(readApiKey(headers({ authorization: 'Bearer k2' }))).toBe('k2');
    expect(readApiKey(headers({ authorization: 'bearer   k3' }))).toBe('k3');
    expect(readApiKey(headers({ authorization: 'k4' }))).toBe('k4');
    expect(readApiKey(headers({ 'x-api-key': 'k5', authorization: 'Bearer other' }))).toBe('k5');
  });

  it('ignores other schemes and empty values', () => {
    expect(readApiKey(headers({ authorization: 'Basic dXNlcjpwYXNz' }))).toBeUndefined();
    expect(readApiKey(headers({ authorization: 'Bearer ' }))).toBeUndefined();
    expect(readApiKey(headers({}))).toBeUndefined();
  });
});

describe('buildDirectory', () => {
  const policy = (id: string, authRequired: boolean, pools: string[], tenants: PolicyConfig['tenants']) => ({
    id,
    authRequired,
    pools,
    tenants,
    rateLimits: [],
    failureMode: 'open' as const,
  });
  const config: Pick<ProxyConfig, 'policies'> = {
    policies: [
      policy('ns/a', true, ['ns/chat'], [{ name: 'team-a', keyHashes: [hashKey('secret-a')] }]),
      policy(
        'ns/b',
        false,
        ['ns/chat', 'ns/open'],
        [{ name: 'team-b', keyHashes: [hashKey('secret-b'), hashKey('secret-a')] }],
      ),
    ],
  };
  it('identifies a key as one tenant of one policy by its hash, first tenant wins, without keeping the key', () => {
    const dir = buildDirectory(config);
    expect(dir.identify(hashKey('secret-b'))).toEqual({
      policy: 'ns/b',
      tenant: 'team-b',
      keyId: hashKey('secret-b').slice(0, 16),
    });
    expect(dir.identify(hashKey('secret-a'))).toMatchObject({ policy: 'ns/a', tenant: 'team-a' });
    expect(dir.identify(hashKey('nope'))).toBeUndefined();
    expect(dir.anyAuthRequired).toBe(true);
    expect(dir.policy('ns/b')?.tenants.has('team-b')).toBe(true);
  });
  it('lists the policies covering each pool', () => {
    const dir = buildDirectory(config);
    expect(dir.covering('ns/chat').map((p) => p.config.id)).toEqual(['ns/a', 'ns/b']);
    expect(dir.covering('ns/open').map((p) => p.config.id)).toEqual(['ns/b']);
    expect(dir.covering('ns/other')).toEqual([]);
  });
});

describe('modelAllowed', () => {
  it('matches exact names and trailing-* prefixes', () => {
    expect(modelAllowed(['gpt-4o*', 'llama'], 'gpt-4o-mini')).toBe(true);
    expect(modelAllowed(['gpt-4o*', 'llama'], 'llama')).toBe(true);
    expect(modelAllowed(['gpt-4o*', 'llama'], 'llama-2')).toBe(false);
    expect(modelAllowed(['*'], 'anything')).toBe(true);
    expect(modelAllowed([], 'anything')).toBe(false);
  });
});
