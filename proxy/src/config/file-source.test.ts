import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { waitFor } from '../../../test/support/wait.js';
import { RELOAD_DEBOUNCE_MS, watchManifests } from './file-source.js';
import { SnapshotStore } from './store.js';

const manifests = (model: string) => poolManifests({ model, urls: ['http://127.0.0.1:9/v1'] });

describe('standalone manifests', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('reload once the files stayed unchanged for the debounce, on the clock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-file-source-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'manifests.yaml');
    await writeFile(file, manifests('first'));
    const clock = new FakeClock(0);
    const store = new SnapshotStore();
    const stop = await watchManifests(file, store, pino({ level: 'silent' }), clock);
    cleanups.push(stop);
    const served = store.current?.config.version;
    expect(served).toBeDefined();

    await writeFile(file, manifests('second'));
    // The change was seen: the reload waits on the clock, however long the file system took to tell.
    await waitFor(() => clock.pending === 1, 5000, 'the reload to be scheduled');
    expect(clock.nextIn()).toBe(RELOAD_DEBOUNCE_MS);
    await clock.advance(RELOAD_DEBOUNCE_MS - 1);
    expect(store.current?.config.version).toBe(served);
    await clock.advance(1);
    await waitFor(() => store.current?.config.version !== served, 5000, 'the reloaded snapshot');

    // Stopping cancels a reload that is waiting.
    await writeFile(file, manifests('third'));
    await waitFor(() => clock.pending === 1, 5000, 'the next reload to be scheduled');
    stop();
    expect(clock.pending).toBe(0);
  });
});
