/**
 * Serves a Hono app the way the proxy does (@hono/node-server over Node's http server, so its answers go through the
 * production Node sink) on a free loopback port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with an ephemeral port until `close()`. */
export async function serveApp(app: Pick<Parameters<typeof createAdaptorServer>[0], 'fetch'>): Promise<Served> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
