/**
 * Baseline for benchmarks: the smallest sensible reverse proxy — node:http server, undici Pool to one upstream,
 * body piped both ways. What Switchyard is compared against. Usage: tsx passthrough.ts <port> <upstream-origin>
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [portArg, upstream] = process.argv.slice(2);
if (!portArg || !upstream) throw new Error('usage: passthrough.ts <port> <upstream-origin>');
const pool = new Pool(upstream, { connections: 256, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });

const server = createServer((req, res) => {
  pool
    .request({ method: 'POST', path: req.url ?? '/', headers: { 'content-type': 'application/json' }, body: req })
    .then(
      (up) => {
        res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
        up.body.pipe(res);
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => process.exit(0));
