import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from './postgres.js';

describe('test postgres harness', () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(() => db?.close());

  it('runs a server that keeps its data across a crash and a restart on the same port', async () => {
    await db.query('CREATE TABLE t (v int)');
    await db.query('INSERT INTO t VALUES ($1)', [7]);
    await db.stop();
    await expect(db.query('SELECT 1')).rejects.toThrow();
    await db.start();
    expect(await db.query('SELECT v FROM t')).toEqual([{ v: 7 }]);
    expect(db.url).toContain(`:${db.port}/`);
  });
});
