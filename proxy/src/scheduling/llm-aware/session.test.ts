import { describe, expect, it } from 'vitest';
import { llmAwarePool } from '../testing/llm-aware-pool.js';
import { sessionKeyOf } from './session.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('sessionKeyOf', () => {
  it('reads the configured session header, then the user field when enabled', () => {
    const pool = llmAwarePool({ sessionHeader: 'x-session-id', sessionFromUser: true });
    expect(sessionKeyOf(pool, headers({ 'x-session-id': 'abc' }), { user: 'u1' })).toBe('abc');
    expect(sessionKeyOf(pool, headers({}), { user: 'u1' })).toBe('user:u1');
    expect(sessionKeyOf(pool, headers({}), {})).toBeUndefined();
  });

  it('is off unless configured, for other strategies, and for overlong keys', () => {
    expect(sessionKeyOf(llmAwarePool(), headers({ 'x-session-id': 'abc' }), { user: 'u1' })).toBeUndefined();
    const other = llmAwarePool({ sessionHeader: 'x-session-id' });
    other.scheduling.strategy = 'least-connections';
    expect(sessionKeyOf(other, headers({ 'x-session-id': 'abc' }), {})).toBeUndefined();
    const pool = llmAwarePool({ sessionHeader: 'x-session-id' });
    expect(sessionKeyOf(pool, headers({ 'x-session-id': 'x'.repeat(300) }), {})).toBeUndefined();
  });
});
