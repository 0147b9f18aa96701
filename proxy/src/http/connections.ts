/**
 * The traffic server's connections during a drain. A client with a kept-alive connection sends its next request as
 * soon as (or a little after) the previous answer ends; closing the connection the moment it goes idle races with
 * that request, and the client sees a reset. So while draining, every answer whose headers are not sent yet says
 * `Connection: close` (the client opens its next connection elsewhere), and a connection is closed only once it has
 * been idle for `DRAIN_IDLE_MS`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../../../shared/src/clock.js';

/**
 * How long a kept-alive connection may sit idle while the proxy drains before it is closed: below the idle timeouts
 * of common HTTP clients (undici 4 s), which close such connections themselves first.
 */
export const DRAIN_IDLE_MS = 2000;

/** How often a draining server looks for connections idle for `DRAIN_IDLE_MS`. */
export const DRAIN_SWEEP_MS = 100;

/** Connection bookkeeping of one server (see the module comment). */
export interface TrackedConnections {
  /** From now on, answers close their connection (also the open ones whose headers are not sent yet). */
  startDraining(): void;
  /** Closes the connections idle for at least `idleMs`. */
  closeIdle(idleMs: number): void;
}

/** Starts tracking `server`'s connections on `clock`: call before it accepts any. */
export function trackConnections(server: Server, clock: Clock = systemClock): TrackedConnections {
  const idleSince = new Map<Socket, number>();
  const open = new Set<ServerResponse>();
  let draining = false;
  server.on('connection', (socket: Socket) => {
    idleSince.set(socket, clock.now());
    socket.once('close', () => idleSince.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    idleSince.delete(socket);
    open.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      open.delete(res);
      if (!socket.destroyed) idleSince.set(socket, clock.now());
    });
  });
  return {
    startDraining() {
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
    },
    closeIdle(idleMs) {
      const cutoff = clock.now() - idleMs;
      for (const [socket, since] of idleSince) if (since <= cutoff) socket.destroy();
    },
  };
}

/**
 * Stops accepting connections; resolves once every open one has closed. Node's `server.close()` also closes the
 * connections idle at that moment, which races with a request their client may be sending right then, as closing
 * them the moment they go idle would: here they stay open for the drain's sweep ({@link TrackedConnections.closeIdle}).
 */
export function stopListening(server: Server): Promise<void> {
  server.closeIdleConnections = () => {};
  return new Promise((resolve) => server.close(() => resolve()));
}
