import { describe, expect, it } from 'vitest';
import { parseRedisUrl, RedisUrlError } from './redis-target.js';

describe('parseRedisUrl', () => {
  it('reads one server, Sentinel and Cluster URLs with their credentials', () => {
    expect(parseRedisUrl('redis://redis:6379/2')).toEqual({ mode: 'single', url: 'redis://redis:6379/2', tls: false });
    expect(parseRedisUrl('redis+sentinel://:s3cret@s1:26379,s2/mymaster/3?sentinelPassword=sp')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      master: 'mymaster',
      db: 3,
      password: 's3cret',
      sentinelPassword: 'sp',
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://app:pw@10.0.0.1:7000,[::1]:7001')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'app',
      password: 'pw',
      tls: true,
    });
  });

  it('refuses what it cannot use without repeating the URL (it may hold a password)', () => {
    for (const bad of [
      'http://redis:6379',
      'redis+sentinel://:hunter2@s1:26379',
      'redis+sentinel://:hunter2@s1:26379/m/x',
      'redis+cluster://:hunter2@n1:6379/0',
      'redis+cluster://:hunter2@n1:99999',
    ]) {
      expect(() => parseRedisUrl(bad), bad).toThrow(RedisUrlError);
      try {
        parseRedisUrl(bad);
      } catch (e) {
        expect((e as Error).message).not.toContain('hunter2');
      }
    }
  });
});
