/** A real redis-server and the proxy's client connected to it, for the tests of one file. */
import type { Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { RedisClient } from '../../proxy/src/limits/redis-client.js';
import { startRedis, type TestRedis } from './redis.js';

export interface FileRedis {
  /** The server (valid inside tests: started before them). */
  readonly redis: TestRedis;
  /** A client of it, ready (valid inside tests). */
  readonly client: RedisClient;
}

/** Starts a redis-server and a ready client before the file's tests and closes both after them. */
export function useRedisClient(log: Logger): FileRedis {
  const file = {} as { redis: TestRedis; client: RedisClient };
  beforeAll(async () => {
    file.redis = await startRedis();
    file.client = new RedisClient({ url: file.redis.url, log });
    await file.client.ready(5000);
  });
  afterAll(async () => {
    await file.client?.close();
    await file.redis?.close();
  });
  return file;
}
