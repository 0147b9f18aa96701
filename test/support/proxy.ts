/**
 * Test helpers: run the real proxy servers in-process on free loopback ports, from manifests text (standalone
 * mode, written to a temp file so reloads can be tested) or from a pushed snapshot.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type ProxyHandle, type ProxyOptions, startProxy } from '../../proxy/src/server.js';
import { FakeClock } from './clock.js';
import { waitFor } from './wait.js';

export { poolManifests } from './manifests.js';

export interface TestProxy extends ProxyHandle {
  /** Path of the manifests file (standalone mode). */
  configFile: string;
  /** Rewrites the manifests file (the proxy reloads it). */
  writeManifests(text: string): Promise<void>;
  /** Closes the proxy (advancing a fake clock for what the close waits for) and removes its temp dir. */
  stop(): Promise<void>;
}

/** How long stop() lets requests in flight finish. */
const STOP_GRACE_MS = 1000;

/** Starts a proxy on 127.0.0.1 with ephemeral ports from `manifests` (YAML). */
export async function startTestProxy(
  manifests: string,
  opts: Omit<ProxyOptions, 'configPath'> = {},
): Promise<TestProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-test-'));
  const configFile = join(dir, 'manifests.yaml');
  await writeFile(configFile, manifests);
  const proxy = await startProxy({
    host: '127.0.0.1',
    port: 0,
    adminPort: 0,
    pushToken: 'test-push-token',
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...opts,
    configPath: configFile,
  });
  return {
    ...proxy,
    configFile,
    writeManifests: (text) => writeFile(configFile, text),
    stop: async () => {
      const closing = proxy.close(STOP_GRACE_MS);
      const clock = opts.clock;
      if (clock instanceof FakeClock) {
        // Whatever the close waits for on the clock (the drain's grace, the ledger's last flush) gets its time.
        let closed = false;
        const done = () => {
          closed = true;
        };
        closing.then(done, done);
        const advanced = async () => {
          if (!closed) await clock.advance(STOP_GRACE_MS);
          return closed;
        };
        await waitFor(advanced, 30_000, 'the proxy to close');
      }
      await closing;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
